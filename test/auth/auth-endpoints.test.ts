// The /auth endpoints over real HTTP against a real server (port 0): success and failure for each,
// refresh rotation races, reuse detection, enumeration resistance, mass assignment, hostile bodies.
import t from 'tap';
import { request } from 'undici';
import { PASSWORD, http, registerAndLogin, startTestApp, uniqueEmail, type TestApp } from '../helpers/app.js';

let ta: TestApp;
t.before(async () => {
  ta = await startTestApp();
});
t.teardown(async () => ta.close());
const base = () => ta.url;

t.test('register → 201 with the user view; duplicates 409', async (t) => {
  const email = uniqueEmail('reg');
  const res = await http(base(), 'POST', '/auth/register', { json: { email: `  ${email.toUpperCase()} `, username: 'reggie', password: PASSWORD } });
  t.equal(res.status, 201);
  t.same(Object.keys(res.body.user).sort(), ['created_at', 'disabled', 'email', 'email_verified', 'id', 'locked', 'roles', 'tenant', 'username']);
  t.equal(res.body.user.email, email, 'email stored normalised (trimmed, lower-cased)');
  t.same(res.body.user.roles, ['user']);
  t.equal(res.body.user.tenant, 'default');
  t.notOk(res.text.includes('password'), 'no hash or password in the body');
  const dup = await http(base(), 'POST', '/auth/register', { json: { email, username: 'reggie2', password: PASSWORD } });
  t.equal(dup.status, 409);
  t.equal(dup.body.code, 'ERR_EMAIL_TAKEN');
  t.equal(dup.headers['content-type'], 'application/problem+json');
});

t.test('register validation: missing fields, weak password, bad email, unknown tenant', async (t) => {
  const missing = await http(base(), 'POST', '/auth/register', { json: {} });
  t.equal(missing.status, 400);
  t.same(missing.body.errors.map((e: { field: string }) => e.field).sort(), ['email', 'password', 'username']);
  const weak = await http(base(), 'POST', '/auth/register', { json: { email: uniqueEmail(), username: 'weakling', password: 'short' } });
  t.equal(weak.status, 400);
  t.match(weak.body.errors[0], { field: 'password' });
  const badEmail = await http(base(), 'POST', '/auth/register', { json: { email: 'not-an-email', username: 'bademail', password: PASSWORD } });
  t.equal(badEmail.status, 400);
  t.match(badEmail.body.errors[0], { field: 'email' });
  const tenant = await http(base(), 'POST', '/auth/register', { json: { email: uniqueEmail(), username: 'tenantless', password: PASSWORD, tenant: 'nope' } });
  t.equal(tenant.status, 400);
  t.match(tenant.body.errors[0], { field: 'tenant' });
  const wrongType = await http(base(), 'POST', '/auth/register', { json: { email: ['a@example.com', 'b@example.com'], username: 'arr', password: PASSWORD } });
  t.equal(wrongType.status, 400);
});

t.test('mass assignment: role, roles, id, tenant_id are rejected and the default role is kept', async (t) => {
  for (const extra of [{ role: 'admin' }, { roles: ['admin'] }, { id: '00000000-0000-0000-0000-000000000000' }, { tenant_id: 'x' }, { email_verified: true }]) {
    const email = uniqueEmail('mass');
    const res = await http(base(), 'POST', '/auth/register', { json: { email, username: `m${Math.random().toString(36).slice(2, 8)}`, password: PASSWORD, ...extra } });
    t.equal(res.status, 400, JSON.stringify(extra));
    t.equal(res.body.code, 'ERR_VALIDATION');
    const login = await http(base(), 'POST', '/auth/login', { json: { email, password: PASSWORD } });
    t.equal(login.status, 401, 'the account was not created');
  }
});

t.test('login: tokens, no-store, and identical answers for wrong password / unknown email', async (t) => {
  const u = await registerAndLogin(base());
  const ok = await http(base(), 'POST', '/auth/login', { json: { email: u.email.toUpperCase(), password: PASSWORD } });
  t.equal(ok.status, 200, 'email compared case-insensitively');
  t.equal(ok.body.token_type, 'Bearer');
  t.equal(ok.body.expires_in, 900);
  t.ok(ok.body.refresh_token.length >= 43, 'refresh token carries ≥ 256 bits');
  t.equal(ok.headers['cache-control'], 'no-store');
  const wrong = await http(base(), 'POST', '/auth/login', { json: { email: u.email, password: 'wrong password entirely' } });
  const unknown = await http(base(), 'POST', '/auth/login', { json: { email: uniqueEmail('ghost'), password: 'wrong password entirely' } });
  t.equal(wrong.status, 401);
  t.equal(unknown.status, 401);
  const strip = (b: Record<string, unknown>) => ({ ...b, request_id: undefined });
  t.same(strip(wrong.body), strip(unknown.body), 'same body');
  t.equal(wrong.headers['www-authenticate'], unknown.headers['www-authenticate']);
});

t.test('validate and me with a bearer token; token in the query string refused', async (t) => {
  const u = await registerAndLogin(base());
  const v = await http(base(), 'POST', '/auth/validate', { token: u.access });
  t.equal(v.status, 200);
  t.equal(v.body.sub, u.userId);
  t.equal(v.body.email, u.email);
  t.same(v.body.roles, ['user']);
  t.equal(v.body.tenant, 'default');
  t.ok(v.body.sid && v.body.exp);
  const v2 = await http(base(), 'POST', '/auth/validate', { json: { token: u.access } });
  t.equal(v2.status, 200, 'token in the body');
  const me = await http(base(), 'GET', '/auth/me', { token: u.access });
  t.equal(me.status, 200);
  t.equal(me.body.user.id, u.userId);
  const q = await http(base(), 'GET', `/auth/me?access_token=${u.access}`);
  t.equal(q.status, 400);
  t.equal(q.body.code, 'ERR_TOKEN_IN_QUERY');
  const none = await http(base(), 'GET', '/auth/me');
  t.equal(none.status, 401);
  t.equal(none.headers['www-authenticate'], 'Bearer realm="authgate"', 'no error= when no token was presented');
  const bad = await http(base(), 'GET', '/auth/me', { token: 'garbage.token.value' });
  t.equal(bad.status, 401);
  t.match(String(bad.headers['www-authenticate']), /error="invalid_token"/);
  const badValidate = await http(base(), 'POST', '/auth/validate', { json: { token: 'x.y.z' } });
  t.equal(badValidate.status, 401);
});

t.test('refresh rotates; the old token is spent; reuse kills the session and its newer token', async (t) => {
  const u = await registerAndLogin(base());
  const r1 = await http(base(), 'POST', '/auth/refresh', { json: { refresh_token: u.refresh } });
  t.equal(r1.status, 200);
  t.equal(r1.headers['cache-control'], 'no-store');
  t.not(r1.body.refresh_token, u.refresh);
  const r2 = await http(base(), 'POST', '/auth/refresh', { json: { refresh_token: r1.body.refresh_token } });
  t.equal(r2.status, 200, 'the newest token works');
  const replay = await http(base(), 'POST', '/auth/refresh', { json: { refresh_token: u.refresh } });
  t.equal(replay.status, 401);
  t.equal(replay.body.code, 'ERR_REFRESH_TOKEN_REUSED');
  const newest = await http(base(), 'POST', '/auth/refresh', { json: { refresh_token: r2.body.refresh_token } });
  t.equal(newest.status, 401, 'reuse detection revoked the whole session');
  const access = await http(base(), 'GET', '/auth/me', { token: r2.body.access_token });
  t.equal(access.status, 401, 'the session access token is rejected immediately');
  t.equal(access.body.code, 'ERR_TOKEN_REVOKED');
});

t.test('two concurrent refreshes of one token: exactly one succeeds', async (t) => {
  const u = await registerAndLogin(base());
  const results = await Promise.all([1, 2, 3, 4].map(() => http(base(), 'POST', '/auth/refresh', { json: { refresh_token: u.refresh } })));
  t.equal(results.filter((r) => r.status === 200).length, 1, 'exactly one winner');
  t.equal(results.filter((r) => r.status === 401).length, 3);
  const winner = results.find((r) => r.status === 200)!;
  t.equal((await http(base(), 'GET', '/auth/me', { token: winner.body.access_token })).status, 200, 'the winner\'s access token works');
  t.equal((await http(base(), 'POST', '/auth/refresh', { json: { refresh_token: winner.body.refresh_token } })).status, 200, 'and its refresh token rotates');
  const replay = await http(base(), 'POST', '/auth/refresh', { json: { refresh_token: u.refresh } });
  t.equal(replay.body.code, 'ERR_REFRESH_TOKEN_REUSED', 'a later replay of the spent token is still reuse');
});

t.test('refresh with an unknown token is 401', async (t) => {
  const r = await http(base(), 'POST', '/auth/refresh', { json: { refresh_token: 'nope'.repeat(11) } });
  t.equal(r.status, 401);
  t.equal(r.body.code, 'ERR_REFRESH_TOKEN_INVALID');
});

t.test('logout by refresh token and by bearer; logout-all', async (t) => {
  const u = await registerAndLogin(base());
  const out = await http(base(), 'POST', '/auth/logout', { json: { refresh_token: u.refresh } });
  t.equal(out.status, 204);
  t.equal((await http(base(), 'GET', '/auth/me', { token: u.access })).status, 401, 'access token dead');
  t.equal((await http(base(), 'POST', '/auth/refresh', { json: { refresh_token: u.refresh } })).status, 401);

  const a = await http(base(), 'POST', '/auth/login', { json: { email: u.email, password: PASSWORD } });
  const bearerOut = await http(base(), 'POST', '/auth/logout', { token: a.body.access_token });
  t.equal(bearerOut.status, 204);
  t.equal((await http(base(), 'GET', '/auth/me', { token: a.body.access_token })).status, 401);

  const s1 = await http(base(), 'POST', '/auth/login', { json: { email: u.email, password: PASSWORD } });
  const s2 = await http(base(), 'POST', '/auth/login', { json: { email: u.email, password: PASSWORD } });
  t.equal((await http(base(), 'POST', '/auth/logout-all', { token: s1.body.access_token })).status, 204);
  t.equal((await http(base(), 'GET', '/auth/me', { token: s2.body.access_token })).status, 401);
  t.equal((await http(base(), 'POST', '/auth/refresh', { json: { refresh_token: s2.body.refresh_token } })).status, 401);
  t.equal((await http(base(), 'POST', '/auth/logout', { json: {} })).status, 401, 'no credential at all');
});

t.test('sessions: list marks current; delete own; another user\'s id is 404', async (t) => {
  const u = await registerAndLogin(base());
  const second = await http(base(), 'POST', '/auth/login', { json: { email: u.email, password: PASSWORD }, headers: { 'user-agent': 'second-device' } });
  const list = await http(base(), 'GET', '/auth/sessions', { token: u.access });
  t.equal(list.status, 200);
  t.equal(list.body.length, 2);
  t.equal(list.body.filter((s: { current: boolean }) => s.current).length, 1);
  const other = list.body.find((s: { current: boolean }) => !s.current);
  t.equal(other.user_agent, 'second-device');
  t.equal(other.ip, '127.0.0.1');
  const stranger = await registerAndLogin(base());
  const theft = await http(base(), 'DELETE', `/auth/sessions/${other.id}`, { token: stranger.access });
  t.equal(theft.status, 404, 'another user\'s session is not found, not forbidden');
  const del = await http(base(), 'DELETE', `/auth/sessions/${other.id}`, { token: u.access });
  t.equal(del.status, 204);
  t.equal((await http(base(), 'GET', '/auth/me', { token: second.body.access_token })).status, 401);
  t.equal((await http(base(), 'GET', '/auth/sessions', { token: u.access })).body.length, 1);
});

t.test('password change: verifies current, applies policy, revokes other sessions', async (t) => {
  const u = await registerAndLogin(base());
  const other = await http(base(), 'POST', '/auth/login', { json: { email: u.email, password: PASSWORD } });
  const wrong = await http(base(), 'POST', '/auth/password/change', { token: u.access, json: { current_password: 'not my password', new_password: 'another long passphrase 42' } });
  t.equal(wrong.status, 400);
  const weak = await http(base(), 'POST', '/auth/password/change', { token: u.access, json: { current_password: PASSWORD, new_password: 'short' } });
  t.equal(weak.status, 400);
  const ok = await http(base(), 'POST', '/auth/password/change', { token: u.access, json: { current_password: PASSWORD, new_password: 'another long passphrase 42' } });
  t.equal(ok.status, 204);
  t.equal((await http(base(), 'GET', '/auth/me', { token: u.access })).status, 200, 'current session kept');
  t.equal((await http(base(), 'GET', '/auth/me', { token: other.body.access_token })).status, 401, 'other session revoked');
  t.equal((await http(base(), 'POST', '/auth/login', { json: { email: u.email, password: PASSWORD } })).status, 401, 'old password dead');
  t.equal((await http(base(), 'POST', '/auth/login', { json: { email: u.email, password: 'another long passphrase 42' } })).status, 200);
});

t.test('hostile bodies answer 4xx problem+json, never 500', async (t) => {
  const cases: Array<{ name: string; headers: Record<string, string>; body: string | Buffer; status: number; code?: string }> = [
    { name: 'malformed JSON', headers: { 'content-type': 'application/json' }, body: '{"email":', status: 400, code: 'ERR_MALFORMED_JSON' },
    { name: 'wrong content type', headers: { 'content-type': 'text/plain' }, body: '{}', status: 415, code: 'ERR_UNSUPPORTED_MEDIA_TYPE' },
    { name: 'form body', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a', status: 415 },
    { name: '2 MB body', headers: { 'content-type': 'application/json' }, body: `{"email":"${'a'.repeat(2 * 1024 * 1024)}"}`, status: 413, code: 'ERR_PAYLOAD_TOO_LARGE' },
    { name: 'JSON array', headers: { 'content-type': 'application/json' }, body: '[1,2]', status: 400, code: 'ERR_VALIDATION' },
    { name: 'JSON null', headers: { 'content-type': 'application/json' }, body: 'null', status: 400 },
    { name: 'deep nesting', headers: { 'content-type': 'application/json' }, body: '['.repeat(5000) + ']'.repeat(5000), status: 400, code: 'ERR_JSON_TOO_DEEP' },
    { name: 'not UTF-8', headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), status: 400, code: 'ERR_BAD_ENCODING' },
    { name: 'duplicate key', headers: { 'content-type': 'application/json' }, body: '{"email":"a@example.com","password":"x","email":"b@example.com"}', status: 400, code: 'ERR_DUPLICATE_KEY' },
    { name: 'empty body', headers: { 'content-type': 'application/json', 'content-length': '0' }, body: '', status: 400 },
  ];
  for (const c of cases) {
    const res = await request(`${base()}/auth/login`, { method: 'POST', headers: c.headers, body: c.body });
    const text = await res.body.text();
    t.equal(res.statusCode, c.status, c.name);
    t.equal(res.headers['content-type'], 'application/problem+json', `${c.name}: problem+json`);
    const body = JSON.parse(text);
    t.same(Object.keys(body).filter((k) => ['type', 'title', 'status', 'detail'].includes(k)).sort(), ['detail', 'status', 'title', 'type'], `${c.name}: RFC 9457 members`);
    if (c.code) t.equal(body.code, c.code, `${c.name}: code`);
    t.notMatch(text, /at .*\.(ts|js):\d+/, 'no stack trace');
  }
});

t.test('unknown method on a known endpoint → 405 with Allow', async (t) => {
  const res = await http(base(), 'GET', '/auth/login');
  t.equal(res.status, 405);
  t.equal(res.headers.allow, 'POST');
});

t.test('operations endpoints and JWKS', async (t) => {
  t.equal((await http(base(), 'GET', '/healthz')).status, 200);
  const ready = await http(base(), 'GET', '/readyz');
  t.equal(ready.status, 200);
  t.equal(ready.body.checks.database, 'ok');
  const jwks = await http(base(), 'GET', '/.well-known/jwks.json');
  t.equal(jwks.status, 200);
  t.ok(jwks.body.keys.some((k: { alg: string; crv?: string }) => k.alg === 'EdDSA' && k.crv === 'Ed25519'));
  t.notOk(jwks.body.keys.some((k: { d?: string }) => k.d), 'no private key material');
  const metrics = await http(base(), 'GET', '/metrics');
  t.equal(metrics.status, 200);
  t.match(metrics.text, /authgate_auth_requests_total/);
});
