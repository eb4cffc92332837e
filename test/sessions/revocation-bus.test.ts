// Revocation across authgate instances sharing one database: without Redis (in-process + DB poll), with
// Redis pub/sub (poll slowed to 10 min so only pub/sub can deliver), from a separate core (authctl's
// path), and across a Redis outage (reconcile after reconnect; DB poll while Redis is down).
import t, { type Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCore, type Core } from '../../core/container.js';
import { createLogger } from '../../core/logger.js';
import type { AdminScope } from '../../core/services/user-admin.service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { http, registerAndLogin, startTestApp, type TestApp } from '../helpers/app.js';
import { busHealthy, OwnRedis, redisServerAvailable, sharedRedis, uniqueChannel, waitFor, waitForRejection } from './session-harness.js';

const sidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).sid as string;
const OPERATOR: AdminScope = { actor: 'cli:test', tenantId: null, meta: { ip: null, userAgent: null } };
const NO_POLL = 600_000;

interface Pair {
  a: TestApp;
  b: TestApp;
  db: TestDatabase;
  close(): Promise<void>;
}

async function startPair(options: { redisUrl?: string; channel?: string; pollMs?: number; healthyPollMs?: number }): Promise<Pair> {
  const db = await createTestDatabase('revbus');
  const config: Record<string, Record<string, unknown>> = options.redisUrl ? { redis: { url: options.redisUrl, revocation_channel: options.channel ?? uniqueChannel() } } : {};
  const extra = {
    ...(options.pollMs !== undefined ? { revocationPollMs: options.pollMs } : {}),
    ...(options.healthyPollMs !== undefined ? { revocationHealthyPollMs: options.healthyPollMs } : {}),
  };
  const a = await startTestApp({ databaseUrl: db.url, config, ...extra });
  const b = await startTestApp({ databaseUrl: db.url, config, ...extra });
  return {
    a,
    b,
    db,
    async close() {
      await a.close();
      await b.close();
      await db.drop();
    },
  };
}

/** A second core on the same database and config, like `authctl` in its own process (no poll). */
async function operatorCore(ta: TestApp): Promise<Core> {
  return createCore(ta.config, { revocationPollMs: 0, logger: createLogger('silent') });
}

async function expectRejected(t: Test, base: string, token: string, since: number, deadlineMs: number, what: string): Promise<void> {
  const r = await waitForRejection(base, token, since, deadlineMs);
  t.not(r.latencyMs, null, `${what}: rejected with ERR_TOKEN_REVOKED (last: ${r.lastStatus} ${r.lastCode ?? ''})`);
  t.comment(`${what}: enforced after ${r.latencyMs ?? 'never'} ms (deadline ${deadlineMs} ms)`);
}

t.test('without Redis: the DB poll (500 ms) carries revocations to the other instance', async (t) => {
  const pair = await startPair({});
  t.teardown(() => pair.close());
  t.equal(pair.b.app.context.core.revocation.mode, 'local');

  const user = await registerAndLogin(pair.a.url);
  t.equal((await http(pair.b.url, 'GET', '/auth/me', { token: user.access })).status, 200, 'token valid on B before');
  const since = performance.now();
  t.equal((await http(pair.a.url, 'POST', '/auth/logout', { token: user.access })).status, 204);
  await expectRejected(t, pair.b.url, user.access, since, 1000, 'logout on A → B (poll)');

  // authctl in another process without Redis: writes the row, publishes only locally.
  const op = await operatorCore(pair.a);
  t.teardown(() => op.close());
  const victim = await registerAndLogin(pair.a.url);
  const start2 = performance.now();
  t.equal(await op.admin.sessions.revoke(OPERATOR, sidOf(victim.access)), true);
  await expectRejected(t, pair.b.url, victim.access, start2, 1000, 'operator core revoke → B (poll)');
  await expectRejected(t, pair.a.url, victim.access, start2, 1000, 'operator core revoke → A (poll)');

  // Disabling a user elsewhere: B learns users.disabled_at from the poll (kind user).
  const disabled = await registerAndLogin(pair.a.url);
  const start3 = performance.now();
  await op.admin.users.disable(OPERATOR, disabled.userId);
  await expectRejected(t, pair.b.url, disabled.access, start3, 1000, 'user disabled by operator core → B (poll)');
});

t.test('with Redis: pub/sub carries revocations between instances within 1 s (poll slowed to 10 min)', async (t) => {
  const redis = await sharedRedis();
  if (!redis) return t.plan(0, 'no Redis (set TEST_REDIS_URL or install redis-server)');
  t.teardown(() => redis.close());
  const channel = uniqueChannel();
  const pair = await startPair({ redisUrl: redis.url, channel, pollMs: NO_POLL, healthyPollMs: NO_POLL });
  t.teardown(() => pair.close());
  const busA = pair.a.app.context.core.revocation;
  const busB = pair.b.app.context.core.revocation;
  t.equal(busB.mode, 'redis');
  t.ok(await waitFor(() => busHealthy(busA) && busHealthy(busB), 5000), 'both subscribed');

  const latencies: number[] = [];
  for (let i = 0; i < 3; i++) {
    const user = await registerAndLogin(pair.a.url);
    t.equal((await http(pair.b.url, 'GET', '/auth/me', { token: user.access })).status, 200);
    const since = performance.now();
    t.equal((await http(pair.a.url, 'DELETE', `/auth/sessions/${sidOf(user.access)}`, { token: user.access })).status, 204);
    const r = await waitForRejection(pair.b.url, user.access, since, 1000);
    t.not(r.latencyMs, null, `trial ${i}: B rejects within 1 s`);
    if (r.latencyMs !== null) latencies.push(r.latencyMs);
  }
  t.comment(`redis in-process pair latencies (ms): ${latencies.join(', ')}`);

  const op = await createCore(pair.a.config, { revocationPollMs: 0, logger: createLogger('silent') });
  t.teardown(() => op.close());
  t.equal(op.revocation.mode, 'redis', 'the operator core publishes to Redis too');
  const victim = await registerAndLogin(pair.a.url);
  const since = performance.now();
  t.equal(await op.admin.sessions.revoke(OPERATOR, sidOf(victim.access)), true);
  await expectRejected(t, pair.b.url, victim.access, since, 1000, 'operator core revoke → B (redis)');

  const all = await registerAndLogin(pair.a.url);
  const since2 = performance.now();
  t.equal(await op.admin.sessions.revokeForUser(OPERATOR, all.userId), 1);
  await expectRejected(t, pair.b.url, all.access, since2, 1000, 'operator core revoke-all → B (redis)');

  const disabled = await registerAndLogin(pair.b.url);
  const since3 = performance.now();
  await op.admin.users.disable(OPERATOR, disabled.userId);
  await expectRejected(t, pair.a.url, disabled.access, since3, 1000, 'user disable → A (redis, kind user)');
});

t.test('Redis restarted while a revocation is published: enforced after reconnect (reconcile)', async (t) => {
  if (!(await redisServerAvailable())) return t.plan(0, 'redis-server not installed');
  const redis = await OwnRedis.create();
  t.teardown(() => redis.stop());
  // Poll disabled entirely (healthy and degraded): only pub/sub or the reconnect reconcile can deliver.
  const pair = await startPair({ redisUrl: redis.url, pollMs: NO_POLL, healthyPollMs: NO_POLL });
  t.teardown(() => pair.close());
  const busB = pair.b.app.context.core.revocation;
  t.ok(await waitFor(() => busHealthy(pair.a.app.context.core.revocation) && busHealthy(busB), 5000), 'both subscribed');
  const user = await registerAndLogin(pair.a.url);

  await redis.stop();
  t.ok(await waitFor(() => !busHealthy(busB), 5000), 'B noticed Redis is down');
  t.equal((await http(pair.a.url, 'POST', '/auth/logout', { token: user.access })).status, 204, 'logout succeeds with Redis down');
  t.equal((await http(pair.a.url, 'GET', '/auth/me', { token: user.access })).body.code, 'ERR_TOKEN_REVOKED', 'A enforces at once');
  await sleep(300);
  t.equal((await http(pair.b.url, 'GET', '/auth/me', { token: user.access })).status, 200, 'B has not heard of it (nothing delivered while down)');

  await redis.start();
  const since = performance.now();
  t.ok(await waitFor(() => busHealthy(busB), 10_000), 'B resubscribed');
  await expectRejected(t, pair.b.url, user.access, since, 1000, 'after reconnect + reconcile → B');
});

t.test('Redis down: the degraded DB poll (500 ms) still carries revocations', async (t) => {
  if (!(await redisServerAvailable())) return t.plan(0, 'redis-server not installed');
  const redis = await OwnRedis.create();
  t.teardown(() => redis.stop());
  const pair = await startPair({ redisUrl: redis.url, pollMs: 500, healthyPollMs: NO_POLL });
  t.teardown(() => pair.close());
  const busB = pair.b.app.context.core.revocation;
  t.ok(await waitFor(() => busHealthy(busB), 5000));
  const user = await registerAndLogin(pair.a.url);
  await redis.stop();
  t.ok(await waitFor(() => !busHealthy(busB), 5000), 'B noticed Redis is down');
  const since = performance.now();
  t.equal((await http(pair.a.url, 'POST', '/auth/logout', { token: user.access })).status, 204);
  await expectRejected(t, pair.b.url, user.access, since, 1000, 'Redis down → B (degraded poll)');
});
