// Revocation across real OS processes: two `node bin/authgate.js serve` sharing the database (and Redis),
// plus a third process revoking the way authctl does. Needs the built dist/ (npx tsc -p tsconfig.build.json).
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { createTestDatabase } from '../helpers/db.js';
import { http, registerAndLogin } from '../helpers/app.js';
import { sharedRedis, uniqueChannel } from './session-harness.js';
import { firstRejectionAt, spawnAuthgate, spawnRevoker, type ProcessEnv } from './process-harness.js';

const sidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).sid as string;

if (!existsSync(new URL('../../dist/proxy/main.js', import.meta.url))) {
  t.fail('dist/ is not built: run npx tsc -p tsconfig.build.json');
}

async function scenario(t: Test, env: ProcessEnv, deadlineMs: number, label: string): Promise<void> {
  // Sequential start: the first applies the migrations, the second finds them applied.
  const a = await spawnAuthgate(env);
  t.teardown(() => a.stop());
  const b = await spawnAuthgate(env);
  t.teardown(() => b.stop());
  const revoker = await spawnRevoker(env);
  t.teardown(() => revoker.stop());

  // Warm-up: the first revocation proves both subscriptions are live before anything is measured.
  const warm = await registerAndLogin(a.url);
  await http(a.url, 'POST', '/auth/logout', { token: warm.access });
  t.not(await firstRejectionAt(b.url, warm.access, Date.now(), 10_000), null, `${label}: warm-up revocation reached B`);

  const user = await registerAndLogin(a.url);
  t.equal((await http(b.url, 'GET', '/auth/me', { token: user.access })).status, 200, 'token valid on B before');
  const started = Date.now();
  t.equal((await http(a.url, 'DELETE', `/auth/sessions/${sidOf(user.access)}`, { token: user.access })).status, 204);
  const at = await firstRejectionAt(b.url, user.access, started, deadlineMs);
  t.not(at, null, `${label}: revoked through process A → process B rejects within ${deadlineMs} ms`);
  t.comment(`${label}: A → B ${at === null ? 'never' : at - started} ms`);

  const victim = await registerAndLogin(b.url);
  t.equal((await http(b.url, 'GET', '/auth/me', { token: victim.access })).status, 200);
  const r = await revoker.revoke(sidOf(victim.access));
  t.equal(r.revoked, true, 'the separate process revoked it');
  const at2 = await firstRejectionAt(b.url, victim.access, r.startedAt, deadlineMs);
  t.not(at2, null, `${label}: revoked by a separate process → B rejects within ${deadlineMs} ms`);
  t.comment(`${label}: separate process → B ${at2 === null ? 'never' : at2 - r.startedAt} ms`);
}

t.test('two authgate processes + a revoking process, sharing the database and Redis', async (t) => {
  const redis = await sharedRedis();
  if (!redis) return t.plan(0, 'no Redis (set TEST_REDIS_URL or install redis-server)');
  t.teardown(() => redis.close());
  const db = await createTestDatabase('procredis');
  t.teardown(() => db.drop());
  await scenario(t, { databaseUrl: db.url, redisUrl: redis.url, channel: uniqueChannel() }, 1000, 'redis');
});

t.test('two authgate processes + a revoking process without Redis: the 500 ms DB poll', async (t) => {
  const db = await createTestDatabase('procpoll');
  t.teardown(() => db.drop());
  await scenario(t, { databaseUrl: db.url }, 1000, 'poll');
});
