// Header hygiene: spoofed identity headers (any case, `_` variants, Connection-listed) never reach the
// upstream while the injected ones do; X-Forwarded-*/Forwarded from untrusted peers are discarded, from
// trusted ones appended; Bearer in the query is refused; header values are sanitised.
import t from 'tap';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startTestApp, loginWithRoles, http } from '../helpers/app.js';
import { rawRequest, rawGet } from './raw-http.js';

/** Header names the upstream received, lower-cased, in order. */
function rawNames(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) out.push(raw[i]!.toLowerCase());
  return out;
}
function rawValues(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

t.test('spoofed identity headers never reach the upstream', async (t) => {
  const app = await startTestApp();
  t.teardown(() => app.close());
  const viewer = await loginWithRoles(app, ['viewer']);
  const spoof = [
    'X-Auth-User-Id: attacker',
    'x-auth-user-id: attacker2',
    'X_Auth_User_Id: attacker3',
    'X-AUTH-ROLES: admin',
    'X-Auth_Roles: admin',
    'X-Auth-Token: forged',
    'X-Auth-Anything: x',
    'Connection: X-Auth-User-Id, X-Auth-Email, keep-alive',
  ];
  for (const [path, token] of [['/api/orders/1', viewer.access], ['/public/a', undefined]] as const) {
    const res = await rawRequest(app.app.port, [`GET ${path} HTTP/1.1`, 'Host: authgate.test', ...(token ? [`Authorization: Bearer ${token}`] : []), ...spoof].join('\r\n'));
    t.equal(res.status, 200, path);
    const got = app.upstream.received.at(-1)!;
    const names = rawNames(got.rawHeaders);
    const normalised = names.map((n) => n.replaceAll('_', '-'));
    const identity = normalised.filter((n) => n.startsWith('x-auth-'));
    if (token) {
      // exactly the six injected headers, once each, with the real values
      t.same(identity.sort(), ['x-auth-email', 'x-auth-permissions', 'x-auth-roles', 'x-auth-session-id', 'x-auth-tenant', 'x-auth-user-id']);
      t.same(rawValues(got.rawHeaders, 'x-auth-user-id'), [viewer.userId]);
      t.same(rawValues(got.rawHeaders, 'x-auth-roles'), ['viewer']);
      t.same(rawValues(got.rawHeaders, 'x-auth-email'), [viewer.email], 'Connection: X-Auth-Email did not remove the injected header');
      t.notOk(names.includes('authorization'), 'the bearer token is not passed on');
    } else {
      t.same(identity, [], 'public route: no identity header at all');
    }
    t.notOk(got.rawHeaders.some((v) => v.startsWith('attacker') || v === 'admin' || v === 'forged'), 'no spoofed value');
  }
});

t.test('forwarding headers: untrusted peers are discarded, trusted appended', async (t) => {
  const spoofed = ['X-Forwarded-For: 6.6.6.6', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: evil.test', 'Forwarded: for=6.6.6.6', 'X-Real-IP: 6.6.6.6', 'X_Forwarded_For: 7.7.7.7'];
  t.test('no TRUSTED_PROXIES', async (t) => {
    const app = await startTestApp();
    t.teardown(() => app.close());
    const res = await rawRequest(app.app.port, ['GET /public/a HTTP/1.1', 'Host: authgate.test', ...spoofed].join('\r\n'));
    t.equal(res.status, 200);
    const got = app.upstream.received.at(-1)!;
    t.same(rawValues(got.rawHeaders, 'x-forwarded-for'), ['127.0.0.1']);
    t.same(rawValues(got.rawHeaders, 'x-forwarded-proto'), ['http']);
    t.same(rawValues(got.rawHeaders, 'x-forwarded-host'), ['authgate.test']);
    t.same(rawValues(got.rawHeaders, 'forwarded'), ['for=127.0.0.1;proto=http;host="authgate.test"']);
    t.same(rawValues(got.rawHeaders, 'x-real-ip'), []);
    t.notOk(got.rawHeaders.some((v) => v.includes('6.6.6.6') || v.includes('7.7.7.7') || v.includes('evil')));
  });
  t.test('peer in TRUSTED_PROXIES', async (t) => {
    const app = await startTestApp({ config: { server: { trusted_proxies: '127.0.0.1/32' } } });
    t.teardown(() => app.close());
    const res = await rawRequest(app.app.port, ['GET /public/a HTTP/1.1', 'Host: authgate.test', ...spoofed].join('\r\n'));
    t.equal(res.status, 200);
    const got = app.upstream.received.at(-1)!;
    t.same(rawValues(got.rawHeaders, 'x-forwarded-for'), ['6.6.6.6, 127.0.0.1']);
    t.same(rawValues(got.rawHeaders, 'x-forwarded-proto'), ['https']);
    t.same(rawValues(got.rawHeaders, 'x-forwarded-host'), ['evil.test']);
    t.same(rawValues(got.rawHeaders, 'forwarded'), ['for=6.6.6.6, for=127.0.0.1;proto=https;host="authgate.test"']);
    t.notOk(got.rawHeaders.includes('7.7.7.7'), 'underscore variant still dropped');
  });
});

t.test('credentials: Bearer header only', async (t) => {
  const app = await startTestApp();
  t.teardown(() => app.close());
  const viewer = await loginWithRoles(app, ['viewer']);
  const before = app.upstream.received.length;
  const inQuery = await http(app.url, 'GET', `/api/orders/1?access_token=${viewer.access}`);
  t.equal(inQuery.status, 400);
  t.equal(inQuery.body.code, 'ERR_TOKEN_IN_QUERY');
  const both = await http(app.url, 'GET', `/api/orders/1?x=1&access_token=${viewer.access}`, { token: viewer.access });
  t.equal(both.status, 400, 'refused even alongside a valid header');
  const basic = await http(app.url, 'GET', '/api/orders/1', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
  t.equal(basic.status, 401);
  t.equal(basic.headers['www-authenticate'], 'Bearer realm="authgate"');
  const garbage = await http(app.url, 'GET', '/api/orders/1', { headers: { authorization: 'Bearer not a token' } });
  t.equal(garbage.status, 401);
  t.match(garbage.headers['www-authenticate'], /error="invalid_token"/);
  t.equal(app.upstream.received.length, before, 'none of them reached the upstream');
});

t.test('custom identity header names, X-Auth-Token and value sanitising', async (t) => {
  const app = await startTestApp({
    policy: (upstream) => `
version: 1
upstreams: { app: ${upstream} }
roles: { viewer: { permissions: [orders:read] } }
identity_headers: { prefix: X-Gate-, user_id: X-Remote-User }
routes:
  - name: with-token
    match: { path: "/svc/**" }
    upstream: app
    headers: { token: true }
  - name: plain
    match: { path: "/plain/**" }
    upstream: app
`,
  });
  t.teardown(() => app.close());
  const viewer = await loginWithRoles(app, ['viewer']);
  const res = await rawGet(app.app.port, '/svc/x', [`Authorization: Bearer ${viewer.access}`, 'X-Remote-User: spoof', 'X_Remote_User: spoof2', 'X-Gate-Roles: admin']);
  t.equal(res.status, 200);
  const got = app.upstream.received.at(-1)!;
  t.same(rawValues(got.rawHeaders, 'x-remote-user'), [viewer.userId]);
  t.same(rawValues(got.rawHeaders, 'x-gate-roles'), ['viewer']);
  const [upstreamJwt] = rawValues(got.rawHeaders, 'x-gate-token');
  t.ok(upstreamJwt, 'X-Gate-Token injected on a headers.token route');
  const jwks = createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(upstreamJwt!, jwks, { audience: 'app', issuer: app.config.tokens.issuer });
  t.equal(payload.sub, viewer.userId);
  t.ok(payload.exp! - payload.iat! <= 60, 'short-lived');
  await rawGet(app.app.port, '/plain/x', [`Authorization: Bearer ${viewer.access}`]);
  t.same(rawValues(app.upstream.received.at(-1)!.rawHeaders, 'x-gate-token'), [], 'no token header on other routes');
});
