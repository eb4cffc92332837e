// Fault: the Redis behind rate limits and the revocation bus is killed (SIGKILL) and restarted on the same
// port. While it is down, rate limits fall back to the in-memory insurance limiter, revocations reach other
// replicas through the database poll, /readyz reports degraded (503, checks.redis 'down'); afterwards every
// Redis-backed path heals by itself.
import t from 'tap';
import { Redis } from 'ioredis';
import { DEFAULT_TEST_POLICY, http, registerAndLogin, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { OwnRedis, redisServerMissing, waitFor } from './fault-harness.js';

const POLICY = (upstream: string) =>
  DEFAULT_TEST_POLICY(upstream).replace(
    'routes:\n',
    'routes:\n  - name: limited\n    match: { path: "/limited/**" }\n    upstream: app\n    access: authenticated\n    rate_limit: { points: 3, per: 60s, by: user }\n',
  );

/** The RedisRevocationBus's subscription state (true = pub/sub live, false = degraded polling). */
const busHealthy = (bus: unknown): boolean => (bus as { healthy?: boolean }).healthy === true;

t.test('Redis killed and restarted under two authgate replicas', { skip: redisServerMissing() ? 'redis-server not installed' : false }, async (t) => {
  const redis = await OwnRedis.create();
  t.teardown(() => redis.stop());
  const db = await createTestDatabase('redisfault');
  t.teardown(() => db.drop());
  const config = { redis: { url: redis.url, rate_limit_prefix: 'fault:rl', revocation_channel: 'fault:revocations' } };
  const a = await startTestApp({ databaseUrl: db.url, policy: POLICY, config });
  t.teardown(() => a.close());
  const b = await startTestApp({ databaseUrl: db.url, policy: POLICY, config });
  t.teardown(() => b.close());
  const core = a.app.context.core;
  t.equal(core.revocation.mode, 'redis', 'revocation bus runs on Redis');
  t.equal(core.rateLimits.store.backend, 'redis', 'rate limits run on Redis');
  await waitFor('replica A subscribed', () => busHealthy(core.revocation) && busHealthy(b.app.context.core.revocation));
  const readyBefore = await http(a.url, 'GET', '/readyz');
  t.equal(readyBefore.status, 200);
  t.equal(readyBefore.body?.checks?.redis, 'ok');

  const victim = await registerAndLogin(a.url);
  const limitedUser = await registerAndLogin(a.url);

  // ── Redis dies ──
  await redis.stop();
  await waitFor('rate limiter fallback', () => core.rateLimits.store.fallback);
  const degraded = await http(a.url, 'GET', '/readyz');
  t.equal(degraded.status, 503, '/readyz → 503 while Redis is down');
  t.equal(degraded.body?.checks?.redis, 'down', 'checks.redis is down');
  t.equal(degraded.body?.checks?.database, 'ok', 'checks.database still ok');
  t.ok(Number(degraded.headers['retry-after']) > 0, 'Retry-After on the degraded readiness answer');
  const metrics = await http(a.url, 'GET', '/metrics');
  t.match(metrics.text, /authgate_rate_limiter_fallback 1/, 'fallback gauge is 1');

  // Rate limit: the insurance limiter still limits (3 per minute per user), per process.
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await http(a.url, 'GET', `/limited/${i}`, { token: limitedUser.access })).status);
  t.same(statuses, [200, 200, 200, 429, 429], 'limit enforced by the in-memory insurance limiter');
  // Auth endpoints keep working.
  const other = await registerAndLogin(a.url);
  t.equal((await http(a.url, 'GET', '/api/x', { token: other.access })).status, 200, 'register, login and proxying work without Redis');

  // Revocation: replica B revokes (its publish fails); replica A learns it through the database poll.
  t.equal((await http(a.url, 'GET', '/api/v', { token: victim.access })).status, 200, 'victim token valid on A');
  t.equal((await http(b.url, 'POST', '/auth/logout', { token: victim.access })).status, 204, 'logout on B while Redis is down');
  await waitFor('A to reject the revoked token (DB poll)', async () => (await http(a.url, 'GET', '/api/v', { token: victim.access })).status === 401, 15_000, 100);
  t.pass('revocation reached replica A through polling');
  t.notOk(busHealthy(core.revocation), 'A reports its bus as degraded (polling) meanwhile');

  // ── Redis returns on the same port ──
  await redis.start();
  await waitFor('rate limits back on Redis', () => !core.rateLimits.store.fallback, 20_000);
  await waitFor('bus resubscribed on both replicas', () => busHealthy(core.revocation) && busHealthy(b.app.context.core.revocation), 20_000);
  await waitFor('/readyz 200 again', async () => (await http(a.url, 'GET', '/readyz')).status === 200, 20_000, 100);
  t.match((await http(a.url, 'GET', '/metrics')).text, /authgate_rate_limiter_fallback 0/, 'fallback gauge back to 0');

  // Counters live in Redis again: a fresh user's requests create keys under our prefix, shared by B.
  const shared = await registerAndLogin(a.url);
  const afterStatuses: number[] = [];
  afterStatuses.push((await http(a.url, 'GET', '/limited/1', { token: shared.access })).status);
  afterStatuses.push((await http(b.url, 'GET', '/limited/2', { token: shared.access })).status);
  afterStatuses.push((await http(a.url, 'GET', '/limited/3', { token: shared.access })).status);
  afterStatuses.push((await http(b.url, 'GET', '/limited/4', { token: shared.access })).status);
  t.same(afterStatuses, [200, 200, 200, 429], 'the limit is shared across replicas again (counted in Redis)');
  const probe = new Redis(redis.url);
  t.teardown(() => probe.disconnect());
  t.ok((await probe.keys('fault:rl*')).length > 0, 'rate-limit keys exist in Redis');

  // Revocation over pub/sub again: revoke on B, rejected on A.
  const victim2 = await registerAndLogin(a.url);
  t.equal((await http(a.url, 'GET', '/api/v2', { token: victim2.access })).status, 200);
  t.equal((await http(b.url, 'POST', '/auth/logout', { token: victim2.access })).status, 204);
  await waitFor('A to reject the second revoked token', async () => (await http(a.url, 'GET', '/api/v2', { token: victim2.access })).status === 401, 15_000, 50);
  t.pass('revocation after recovery reached replica A');
});
