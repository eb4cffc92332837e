// Per-route rate limits through the real proxy, on the memory backend always and on Redis when
// TEST_REDIS_URL is set: 429 + headers before the upstream, RateLimit-* on allowed responses, keys that a
// spoofed X-Forwarded-For cannot move, limits shared by two instances through Redis, auth endpoint limits.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { http, registerAndLogin, startTestApp, type TestAppOptions } from '../helpers/app.js';

const REDIS = process.env.TEST_REDIS_URL;
const backends: Array<'memory' | 'redis'> = REDIS ? ['memory', 'redis'] : ['memory'];

const policy = (upstream: string) => `
version: 1
upstreams:
  app: ${upstream}
roles:
  user: { permissions: [profile:read] }
default: deny
routes:
  - name: limited
    match: { path: "/limited/**" }
    upstream: app
    access: public
    rate_limit: { points: 5, per: 60s, by: ip }
  - name: per-user
    match: { path: "/api/mine/**" }
    upstream: app
    access: authenticated
    rate_limit: { points: 3, per: 60s, by: user }
  - name: open
    match: { path: "/open/**" }
    upstream: app
    access: public
`;

function options(backend: 'memory' | 'redis', prefix: string, extra: TestAppOptions['config'] = {}): TestAppOptions {
  const config: NonNullable<TestAppOptions['config']> = { ...extra };
  if (backend === 'redis') config.redis = { url: REDIS!, rate_limit_prefix: prefix };
  return { policy, config };
}

const newPrefix = () => `test:${randomBytes(6).toString('hex')}`;
const received = (app: { upstream: { received: Array<{ url: string }> } }, path: string) => app.upstream.received.filter((r) => r.url.startsWith(path)).length;

for (const backend of backends) {
  t.test(`${backend}: the 6th request on a 5-point route is 429 and never reaches the upstream`, async (t) => {
    const app = await startTestApp(options(backend, newPrefix()));
    t.teardown(() => app.close());
    for (let i = 1; i <= 5; i++) {
      const r = await http(app.url, 'GET', `/limited/x${i}`);
      t.equal(r.status, 200, `request ${i} allowed`);
      t.equal(r.headers['ratelimit-limit'], '5', 'RateLimit-Limit on a success');
      t.equal(r.headers['ratelimit-remaining'], String(5 - i), 'RateLimit-Remaining counts down');
      const reset = Number(r.headers['ratelimit-reset']);
      t.ok(reset > 0 && reset <= 60, 'RateLimit-Reset is delta seconds within the window');
    }
    const denied = await http(app.url, 'GET', '/limited/x6');
    t.equal(denied.status, 429);
    t.equal(denied.body.code, 'ERR_RATE_LIMITED');
    t.match(String(denied.headers['content-type']), /application\/problem\+json/);
    t.equal(denied.headers['ratelimit-limit'], '5');
    t.equal(denied.headers['ratelimit-remaining'], '0');
    const retry = Number(denied.headers['retry-after']);
    t.ok(retry >= 1 && retry <= 60, 'Retry-After in seconds');
    t.equal(denied.headers['ratelimit-reset'], String(retry), 'RateLimit-Reset agrees with Retry-After');
    t.equal(received(app, '/limited/'), 5, 'the denied request never reached the upstream');
    t.equal(received(app, '/limited/x6'), 0);
    // Another route is not affected, and carries the global per-IP default headers.
    const open = await http(app.url, 'GET', '/open/a');
    t.equal(open.status, 200);
    t.equal(open.headers['ratelimit-limit'], '600', 'global per-IP default advertised');
    const metrics = await http(app.url, 'GET', '/metrics');
    t.match(metrics.text, /authgate_rate_limited_total\{route="limited",by="ip"\} 1/);
  });

  t.test(`${backend}: by user counts per token subject, not per address`, async (t) => {
    const app = await startTestApp(options(backend, newPrefix()));
    t.teardown(() => app.close());
    const alice = await registerAndLogin(app.url);
    const bob = await registerAndLogin(app.url);
    for (let i = 0; i < 3; i++) t.equal((await http(app.url, 'GET', '/api/mine/a', { token: alice.access })).status, 200);
    t.equal((await http(app.url, 'GET', '/api/mine/a', { token: alice.access })).status, 429, 'alice spent her 3 points');
    const b = await http(app.url, 'GET', '/api/mine/a', { token: bob.access });
    t.equal(b.status, 200, 'bob from the same address has his own bucket');
    t.equal(b.headers['ratelimit-remaining'], '2');
    // Unauthenticated requests are refused by authorization before they are counted.
    t.equal((await http(app.url, 'GET', '/api/mine/a')).status, 401);
  });

  t.test(`${backend}: a spoofed X-Forwarded-For from an untrusted peer does not change the key`, async (t) => {
    const app = await startTestApp(options(backend, newPrefix()));
    t.teardown(() => app.close());
    for (let i = 1; i <= 5; i++) t.equal((await http(app.url, 'GET', '/limited/s', { headers: { 'x-forwarded-for': `203.0.113.${i}` } })).status, 200);
    const r = await http(app.url, 'GET', '/limited/s', { headers: { 'x-forwarded-for': '198.51.100.77', forwarded: 'for=198.51.100.78' } });
    t.equal(r.status, 429, 'still the socket address bucket');
    t.equal(received(app, '/limited/'), 5);
  });

  t.test(`${backend}: X-Forwarded-For from a trusted proxy does select the client bucket (control)`, async (t) => {
    const app = await startTestApp(options(backend, newPrefix(), { server: { trusted_proxies: ['127.0.0.1/32'] } }));
    t.teardown(() => app.close());
    for (let i = 1; i <= 5; i++) t.equal((await http(app.url, 'GET', '/limited/p', { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 200);
    t.equal((await http(app.url, 'GET', '/limited/p', { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 429);
    t.equal((await http(app.url, 'GET', '/limited/p', { headers: { 'x-forwarded-for': '203.0.113.10' } })).status, 200, 'another client behind the proxy');
    t.equal((await http(app.url, 'GET', '/limited/p', { headers: { 'x-forwarded-for': '::ffff:203.0.113.9' } })).status, 429, 'IPv4-mapped form is the same client');
    for (let i = 1; i <= 5; i++) t.equal((await http(app.url, 'GET', '/limited/v6', { headers: { 'x-forwarded-for': `2001:db8:1:2::${i}` } })).status, 200);
    t.equal((await http(app.url, 'GET', '/limited/v6', { headers: { 'x-forwarded-for': '2001:db8:1:2:aaaa::1' } })).status, 429, 'same /64 shares a bucket');
    t.equal((await http(app.url, 'GET', '/limited/v6', { headers: { 'x-forwarded-for': '2001:db8:1:3::1' } })).status, 200, 'another /64 does not');
  });

  t.test(`${backend}: per-IP limits on the auth endpoints`, async (t) => {
    const app = await startTestApp(options(backend, newPrefix(), { security: { rate_limit_auth_points: 3, rate_limit_auth_per: '60s' } }));
    t.teardown(() => app.close());
    const login = (i: number) => http(app.url, 'POST', '/auth/login', { json: { email: `nobody${i}@example.com`, password: 'x'.repeat(12) } });
    for (let i = 0; i < 3; i++) {
      const r = await login(i);
      t.equal(r.status, 401);
      t.equal(r.headers['ratelimit-limit'], '3', 'RateLimit-* on auth endpoint answers');
    }
    const r = await login(9);
    t.equal(r.status, 429);
    t.equal(r.body.code, 'ERR_RATE_LIMITED');
    t.ok(Number(r.headers['retry-after']) >= 1);
    for (const path of ['/auth/refresh', '/auth/register', '/auth/password-reset/request', '/auth/verify-email']) {
      let last = 0;
      for (let i = 0; i < 4; i++) last = (await http(app.url, 'POST', path, { json: {} })).status;
      t.equal(last, 429, `${path}: the 4th request is refused`);
    }
    t.equal((await http(app.url, 'GET', '/healthz')).status, 200, 'other endpoints are not limited');
  });
}

t.test('redis: two authgate instances share one Redis-backed limit', { skip: REDIS ? false : 'TEST_REDIS_URL not set' }, async (t) => {
  const prefix = newPrefix();
  const a = await startTestApp(options('redis', prefix));
  t.teardown(() => a.close());
  const b = await startTestApp({ ...options('redis', prefix), databaseUrl: a.db.url });
  t.teardown(() => b.close());
  t.not(a.url, b.url);
  for (let i = 0; i < 3; i++) t.equal((await http(a.url, 'GET', '/limited/shared')).status, 200);
  for (let i = 0; i < 2; i++) t.equal((await http(b.url, 'GET', '/limited/shared')).status, 200);
  const last = await http(b.url, 'GET', '/limited/shared');
  t.equal(last.status, 429, 'the 6th request, on the second instance, is refused');
  t.equal((await http(a.url, 'GET', '/limited/shared')).status, 429, 'and on the first');
  t.equal(received(a, '/limited/') + received(b, '/limited/'), 5);
});
