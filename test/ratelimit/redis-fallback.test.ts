// Redis stopped mid-test: requests keep being served (and still limited) by the in-memory insurance
// limiter, /readyz reports redis down, the fallback gauge is 1; when Redis returns, limits go through it again.
// Starts its own redis-server on a free port so stopping it cannot disturb other tests.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { http, startTestApp } from '../helpers/app.js';
import { freePort } from '../helpers/processes.js';

const policy = (upstream: string) => `
version: 1
upstreams:
  app: ${upstream}
default: deny
routes:
  - name: limited
    match: { path: "/limited/**" }
    upstream: app
    access: public
    rate_limit: { points: 5, per: 60s, by: ip }
`;


async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function startRedis(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
}

async function pingable(port: number): Promise<boolean> {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGKILL');
  await exited;
}

t.test('redis down mid-test: insurance limiter serves, readyz 503, recovery when redis returns', async (t) => {
  const port = await freePort();
  let redis = startRedis(port);
  t.teardown(() => stop(redis));
  await until('redis-server to start', () => pingable(port));
  const prefix = `test:${randomBytes(6).toString('hex')}`;
  const app = await startTestApp({ policy, config: { redis: { url: `redis://127.0.0.1:${port}`, rate_limit_prefix: prefix } } });
  t.teardown(() => app.close());
  const store = app.app.context.core.rateLimits.store;
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 100, maxRetriesPerRequest: 1 });
  probe.on('error', () => undefined);
  t.teardown(() => probe.disconnect());

  t.equal(store.backend, 'redis');
  t.equal(store.fallback, false);
  const ready = await http(app.url, 'GET', '/readyz');
  t.equal(ready.status, 200);
  t.equal(ready.body.checks.redis, 'ok');
  for (let i = 0; i < 2; i++) t.equal((await http(app.url, 'GET', '/limited/a')).status, 200);
  await probe.connect();
  const keys = await probe.keys(`${prefix}:*`);
  t.ok(keys.some((k) => k.includes('route:limited')), 'counted in redis');
  probe.disconnect();

  // Stop Redis: requests are still served, through the in-memory insurance limiter.
  await stop(redis);
  await until('fallback', () => store.fallback);
  const served = await http(app.url, 'GET', '/limited/b');
  t.equal(served.status, 200, 'served while redis is down');
  t.equal(served.headers['ratelimit-limit'], '5');
  const down = await http(app.url, 'GET', '/readyz');
  t.equal(down.status, 503, 'readyz 503 while a configured redis is unreachable');
  t.equal(down.body.checks.redis, 'down');
  t.equal(down.body.checks.database, 'ok');
  t.match((await http(app.url, 'GET', '/metrics')).text, /authgate_rate_limiter_fallback 1/);
  // The insurance limiter still limits (per process): 5 points, one already spent above.
  for (let i = 0; i < 4; i++) t.equal((await http(app.url, 'GET', '/limited/b')).status, 200);
  const limited = await http(app.url, 'GET', '/limited/b');
  t.equal(limited.status, 429, 'still limited during the outage');
  t.ok(Number(limited.headers['retry-after']) >= 1);

  // Redis returns (empty: no persistence): limits go through Redis again.
  redis = startRedis(port);
  await until('redis-server to restart', () => pingable(port));
  await until('recovery', () => !store.fallback);
  t.equal((await http(app.url, 'GET', '/readyz')).status, 200, 'ready again');
  t.match((await http(app.url, 'GET', '/metrics')).text, /authgate_rate_limiter_fallback 0/);
  const after = await http(app.url, 'GET', '/limited/c');
  t.equal(after.status, 200, 'fresh Redis counter');
  t.equal(after.headers['ratelimit-remaining'], '4');
  const probe2 = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  t.teardown(() => probe2.disconnect());
  t.ok((await probe2.keys(`${prefix}:route:limited:*`)).length > 0, 'counted in redis again');
});
