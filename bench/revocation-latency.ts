// Revocation latency across processes (issue 5's 1-second figure): two `authgate serve` processes share a
// database; a session is revoked through process A (HTTP) or a separate revoking process (authctl's path)
// and process B is polled (GET /auth/me every 20 ms) until it rejects the still-valid access token.
// 20 trials per case; prints median and worst in ms. Not a test; build first, then run with
//   npx tsc -p tsconfig.build.json && TS_NODE_TRANSPILE_ONLY=1 node --import @tapjs/typescript/import bench/revocation-latency.ts
// Uses TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL when set, else SQLite and an own redis-server.
import { createTestDatabase } from '../test/helpers/db.js';
import { http, registerAndLogin } from '../test/helpers/app.js';
import { sharedRedis, uniqueChannel } from '../test/sessions/session-harness.js';
import { firstRejectionAt, spawnAuthgate, spawnRevoker, stats, type ProcessEnv } from '../test/sessions/process-harness.js';

const TRIALS = Number(process.argv[2] ?? 20);
const sidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).sid as string;

async function run(label: string, env: ProcessEnv): Promise<void> {
  const a = await spawnAuthgate(env);
  const b = await spawnAuthgate(env);
  const revoker = await spawnRevoker(env);
  try {
    const warm = await registerAndLogin(a.url);
    await http(a.url, 'POST', '/auth/logout', { token: warm.access });
    if ((await firstRejectionAt(b.url, warm.access, Date.now(), 10_000)) === null) throw new Error('warm-up revocation never arrived');
    const viaHttp: number[] = [];
    const viaProcess: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const u = await registerAndLogin(a.url);
      const started = Date.now();
      await http(a.url, 'POST', '/auth/logout', { token: u.access });
      const at = await firstRejectionAt(b.url, u.access, started, 10_000);
      viaHttp.push(at === null ? Infinity : at - started);
      const v = await registerAndLogin(a.url);
      const r = await revoker.revoke(sidOf(v.access));
      const at2 = await firstRejectionAt(b.url, v.access, r.startedAt, 10_000);
      viaProcess.push(at2 === null ? Infinity : at2 - r.startedAt);
    }
    for (const [what, xs] of [['logout on A → B', viaHttp], ['separate process → B', viaProcess]] as const) {
      const s = stats(xs);
      console.log(`${label.padEnd(18)} ${what.padEnd(22)} n=${s.n}  median ${s.median} ms  worst ${s.worst} ms  [${xs.join(', ')}]`);
    }
  } finally {
    await revoker.stop();
    await a.stop();
    await b.stop();
  }
}

const redis = await sharedRedis();
const dbRedis = await createTestDatabase('benchredis');
const dbPoll = await createTestDatabase('benchpoll');
try {
  console.log(`revocation latency, ${TRIALS} trials per case, database ${dbPoll.dialect}; B polled every 20 ms`);
  if (redis) await run('redis pub/sub', { databaseUrl: dbRedis.url, redisUrl: redis.url, channel: uniqueChannel() });
  else console.log('redis: skipped (no TEST_REDIS_URL and no redis-server)');
  await run('db poll (500 ms)', { databaseUrl: dbPoll.url });
} finally {
  await redis?.close();
  await dbRedis.drop();
  await dbPoll.drop();
}
