// /admin over real HTTP: permissions from policies.yaml roles, tenant scoping (other tenants' objects are
// 404), strict PATCH (no mass assignment), cursor pagination, and the effects of each action.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { DEFAULT_TEST_POLICY, http, loginWithRoles, PASSWORD, registerAndLogin, startTestApp, uniqueEmail, type TestApp } from '../helpers/app.js';

const POLICY = (upstream: string) =>
  DEFAULT_TEST_POLICY(upstream).replace(
    '  admin: { permissions: ["*"] }',
    '  admin: { permissions: ["*"] }\n  support: { permissions: ["admin:users", "admin:sessions"] }\n  tenantops: { permissions: ["admin:tenants"] }',
  );

let ta: TestApp;
let base: string;
let admin: string;
const FAKE = '00000000-0000-4000-8000-000000000000';

t.before(async () => {
  ta = await startTestApp({
    policy: POLICY,
    config: { security: { login_slow_after: 1000, rate_limit_auth_points: 0 } },
  });
  base = ta.url;
  const core = ta.app.context.core;
  const scope = { actor: 'test', tenantId: null, meta: { ip: null, userAgent: null } };
  await core.admin.tenants.create(scope, { slug: 'acme', name: 'Acme' });
  await core.admin.tenants.create(scope, { slug: 'beta', name: 'Beta' });
  admin = (await loginWithRoles(ta, ['admin'])).access;
});
t.teardown(async () => ta?.close());

const ENDPOINTS: Array<[string, string, string]> = [
  ['GET', '/admin/users', 'admin:users'],
  ['POST', '/admin/users', 'admin:users'],
  ['GET', `/admin/users/${FAKE}`, 'admin:users'],
  ['PATCH', `/admin/users/${FAKE}`, 'admin:users'],
  ['DELETE', `/admin/users/${FAKE}`, 'admin:users'],
  ['POST', `/admin/users/${FAKE}/disable`, 'admin:users'],
  ['POST', `/admin/users/${FAKE}/enable`, 'admin:users'],
  ['POST', `/admin/users/${FAKE}/unlock`, 'admin:users'],
  ['POST', `/admin/users/${FAKE}/logout`, 'admin:users'],
  ['POST', `/admin/users/${FAKE}/password-reset`, 'admin:users'],
  ['GET', `/admin/users/${FAKE}/export`, 'admin:users'],
  ['GET', '/admin/sessions', 'admin:sessions'],
  ['DELETE', `/admin/sessions/${FAKE}`, 'admin:sessions'],
  ['GET', '/admin/tenants', 'admin:tenants'],
  ['POST', '/admin/tenants', 'admin:tenants'],
  ['POST', '/admin/tenants/nope/disable', 'admin:tenants'],
];

t.test('every endpoint: 401 without a token, 403 without the permission, passes the guard with it', async (t) => {
  const plain = (await registerAndLogin(base)).access;
  const support = (await loginWithRoles(ta, ['support'])).access;
  const tenantops = (await loginWithRoles(ta, ['tenantops'])).access;
  for (const [method, path, permission] of ENDPOINTS) {
    const json = method === 'POST' || method === 'PATCH' ? {} : undefined;
    const none = await http(base, method, path, json ? { json } : {});
    t.equal(none.status, 401, `${method} ${path} without token`);
    const denied = await http(base, method, path, { token: plain, ...(json ? { json } : {}) });
    t.equal(denied.status, 403, `${method} ${path} with role user`);
    t.equal(denied.body.code, 'ERR_PERMISSION_DENIED');
    const holder = permission === 'admin:tenants' ? tenantops : support;
    const wrong = permission === 'admin:tenants' ? support : tenantops;
    const ok = await http(base, method, path, { token: holder, ...(json ? { json } : {}) });
    t.not(ok.status, 403, `${method} ${path} with ${permission}: ${ok.status}`);
    t.not(ok.status, 401);
    const other = await http(base, method, path, { token: wrong, ...(json ? { json } : {}) });
    t.equal(other.status, 403, `${method} ${path} with the other admin permission only`);
    const star = await http(base, method, path, { token: admin, ...(json ? { json } : {}) });
    t.not(star.status, 403, `${method} ${path} with *`);
  }
});

t.test('users: create, show, PATCH (strict), disable/enable, unlock, logout, password-reset, export, delete', async (t) => {
  const email = uniqueEmail('adm');
  const created = await http(base, 'POST', '/admin/users', { token: admin, json: { email, username: 'admcreated', password: PASSWORD, roles: ['viewer'], tenant: 'acme' } });
  t.equal(created.status, 201, created.text);
  const user = created.body.user;
  t.match(user, { email, roles: ['viewer'], tenant: 'acme', disabled: false });
  const login = await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD, tenant: 'acme' } });
  t.equal(login.status, 200, 'the created user can log in');

  t.equal((await http(base, 'POST', '/admin/users', { token: admin, json: { email: uniqueEmail(), username: 'massassign', id: randomUUID() } })).status, 400);
  const badRole = await http(base, 'POST', '/admin/users', { token: admin, json: { email: uniqueEmail(), username: 'badrole', roles: ['root'] } });
  t.equal(badRole.status, 400);
  t.equal(badRole.body.code, 'ERR_UNKNOWN_ROLE');
  t.equal((await http(base, 'POST', '/admin/users', { token: admin, json: { email, username: 'dupe', tenant: 'acme' } })).status, 409);

  const shown = await http(base, 'GET', `/admin/users/${user.id}`, { token: admin });
  t.equal(shown.status, 200);
  t.same(shown.body.user, user);
  t.equal((await http(base, 'GET', '/admin/users/not-a-uuid', { token: admin })).status, 404);

  for (const field of [{ email: 'evil@example.com' }, { id: randomUUID() }, { password_hash: '$2b$04$abc' }, { tenant_id: randomUUID() }, { roles: ['editor'], email_verified: true }, {}]) {
    const r = await http(base, 'PATCH', `/admin/users/${user.id}`, { token: admin, json: field });
    t.equal(r.status, 400, `PATCH ${JSON.stringify(field)} → 400`);
    t.equal(r.body.code, 'ERR_VALIDATION');
  }
  t.same((await http(base, 'GET', `/admin/users/${user.id}`, { token: admin })).body.user, user, 'nothing changed');
  t.equal((await http(base, 'PATCH', `/admin/users/${user.id}`, { token: admin, json: { roles: ['nosuchrole'] } })).status, 400);

  const roles = await http(base, 'PATCH', `/admin/users/${user.id}`, { token: admin, json: { roles: ['editor', 'viewer'] } });
  t.equal(roles.status, 200);
  t.same(roles.body.user.roles, ['editor', 'viewer']);
  const refreshed = await http(base, 'POST', '/auth/refresh', { json: { refresh_token: login.body.refresh_token } });
  const claims = await http(base, 'POST', '/auth/validate', { json: { token: refreshed.body.access_token } });
  t.same(claims.body.roles, ['editor', 'viewer'], 'the next refresh carries the new roles');

  const access = refreshed.body.access_token as string;
  t.equal((await http(base, 'GET', '/auth/me', { token: access })).status, 200);
  const disabled = await http(base, 'PATCH', `/admin/users/${user.id}`, { token: admin, json: { disabled: true } });
  t.equal(disabled.body.user.disabled, true);
  t.equal((await http(base, 'GET', '/auth/me', { token: access })).status, 401, 'live token rejected');
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD, tenant: 'acme' } })).status, 401);
  t.equal((await http(base, 'POST', `/admin/users/${user.id}/enable`, { token: admin })).body.user.disabled, false);
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD, tenant: 'acme' } })).status, 200);
  t.equal((await http(base, 'POST', `/admin/users/${user.id}/disable`, { token: admin })).body.user.disabled, true);
  t.equal((await http(base, 'POST', `/admin/users/${user.id}/enable`, { token: admin })).status, 200);

  const core = ta.app.context.core;
  const tenant = await core.tenants.resolve('acme');
  await core.repos.users.update(tenant.id, user.id, { lockedUntil: new Date(Date.now() + 600_000), failedLoginCount: 10 }, new Date());
  t.equal((await http(base, 'GET', `/admin/users/${user.id}`, { token: admin })).body.user.locked, true);
  t.equal((await http(base, 'POST', `/admin/users/${user.id}/unlock`, { token: admin })).body.user.locked, false);

  const s1 = await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD, tenant: 'acme' } });
  const out = await http(base, 'POST', `/admin/users/${user.id}/logout`, { token: admin });
  t.equal(out.status, 200);
  t.ok(out.body.revoked >= 1);
  t.equal((await http(base, 'POST', '/auth/refresh', { json: { refresh_token: s1.body.refresh_token } })).status, 401, 'sessions revoked');

  const reset = await http(base, 'POST', `/admin/users/${user.id}/password-reset`, { token: admin });
  t.equal(reset.status, 202, reset.text);
  t.equal(reset.body.link, undefined, 'the link is mailed, never returned over HTTP');

  const exp = await http(base, 'GET', `/admin/users/${user.id}/export`, { token: admin });
  t.equal(exp.status, 200);
  t.equal(exp.body.user.email, email);
  t.ok(Array.isArray(exp.body.sessions) && exp.body.sessions.length >= 1);
  t.notMatch(exp.text, /\$2[aby]\$/, 'no hash in the export');

  const del = await http(base, 'DELETE', `/admin/users/${user.id}`, { token: admin });
  t.equal(del.status, 204);
  t.equal((await http(base, 'GET', `/admin/users/${user.id}`, { token: admin })).status, 404);
  t.equal((await http(base, 'DELETE', `/admin/users/${user.id}`, { token: admin })).status, 404);
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD, tenant: 'acme' } })).status, 401);

  // Every admin action is audited with its actor (the admin's user id).
  const adminId = (await http(base, 'POST', '/auth/validate', { json: { token: admin } })).body.sub;
  const events = await core.auditQuery.list({ user: user.id, limit: 100 });
  const actions = new Set(events.events.filter((e) => e.actor === adminId).map((e) => e.action));
  for (const a of ['admin.user.created', 'admin.user.roles_changed', 'admin.user.disabled', 'admin.user.enabled', 'admin.user.unlocked', 'admin.user.logout', 'admin.user.password_reset', 'admin.user.exported', 'user.deleted'])
    t.ok(actions.has(a as never), `audited: ${a}`);
});

t.test('sessions: list by user, revoke', async (t) => {
  const u = await registerAndLogin(base);
  const list = await http(base, 'GET', `/admin/sessions?user=${u.userId}&active=true`, { token: admin });
  t.equal(list.status, 200);
  t.equal(list.body.length, 1);
  t.match(list.body[0], { user_id: u.userId, tenant: 'default', active: true });
  t.equal((await http(base, 'GET', `/admin/sessions?user=${FAKE}`, { token: admin })).status, 404);
  t.equal((await http(base, 'GET', '/admin/sessions?active=maybe', { token: admin })).status, 400);
  t.equal((await http(base, 'DELETE', `/admin/sessions/${list.body[0].id}`, { token: admin })).status, 204);
  t.equal((await http(base, 'GET', '/auth/me', { token: u.access })).status, 401, 'its access token is rejected');
  t.equal((await http(base, 'POST', '/auth/refresh', { json: { refresh_token: u.refresh } })).status, 401);
  t.equal((await http(base, 'DELETE', `/admin/sessions/${FAKE}`, { token: admin })).status, 404);
});

t.test('tenants: list, create, disable blocks logins and revokes sessions', async (t) => {
  const list = await http(base, 'GET', '/admin/tenants', { token: admin });
  t.equal(list.status, 200);
  t.ok(['default', 'acme', 'beta'].every((s) => list.body.some((x: { slug: string }) => x.slug === s)));
  const created = await http(base, 'POST', '/admin/tenants', { token: admin, json: { slug: 'gamma', name: 'Gamma Inc' } });
  t.equal(created.status, 201);
  t.match(created.body, { slug: 'gamma', name: 'Gamma Inc', disabled: false });
  t.equal((await http(base, 'POST', '/admin/tenants', { token: admin, json: { slug: 'gamma' } })).status, 409);
  t.equal((await http(base, 'POST', '/admin/tenants', { token: admin, json: { slug: 'Not OK' } })).status, 400);
  t.equal((await http(base, 'POST', '/admin/tenants', { token: admin, json: { slug: 'delta', id: randomUUID() } })).status, 400);

  const member = await registerAndLogin(base, { tenant: 'gamma' });
  t.equal((await http(base, 'GET', '/auth/me', { token: member.access })).status, 200);
  const disabled = await http(base, 'POST', '/admin/tenants/gamma/disable', { token: admin });
  t.equal(disabled.status, 200);
  t.equal(disabled.body.disabled, true);
  t.equal((await http(base, 'GET', '/auth/me', { token: member.access })).status, 401, 'tenant tokens rejected');
  t.equal((await http(base, 'POST', '/auth/login', { json: { email: member.email, password: PASSWORD, tenant: 'gamma' } })).status, 401, 'logins blocked');
  t.equal((await http(base, 'POST', '/auth/refresh', { json: { refresh_token: member.refresh } })).status, 401);
  t.equal((await http(base, 'POST', '/admin/tenants/nope/disable', { token: admin })).status, 404);
});

t.test('tenant scoping: an admin of tenant A cannot see or touch tenant B (404, not 403)', async (t) => {
  const acmeAdmin = (await loginWithRoles(ta, ['support'], { tenant: 'acme' })).access;
  const inAcme = await registerAndLogin(base, { tenant: 'acme' });
  const inBeta = await registerAndLogin(base, { tenant: 'beta' });
  const betaSession = (await http(base, 'GET', `/admin/sessions?user=${inBeta.userId}`, { token: admin })).body[0].id;

  const list = await http(base, 'GET', '/admin/users?limit=500', { token: acmeAdmin });
  t.equal(list.status, 200);
  t.ok(list.body.items.length >= 2);
  t.ok(list.body.items.every((u: { tenant: string }) => u.tenant === 'acme'), 'only tenant A users');
  t.ok(list.body.items.some((u: { id: string }) => u.id === inAcme.userId));
  t.equal((await http(base, 'GET', '/admin/users?tenant=beta', { token: acmeAdmin })).status, 400, 'tenant B does not exist for it');
  t.equal((await http(base, 'GET', `/admin/users/${inAcme.userId}`, { token: acmeAdmin })).status, 200);

  for (const [method, path, json] of [
    ['GET', `/admin/users/${inBeta.userId}`],
    ['PATCH', `/admin/users/${inBeta.userId}`, { roles: ['viewer'] }],
    ['PATCH', `/admin/users/${inBeta.userId}`, { email: 'x@example.com' }],
    ['DELETE', `/admin/users/${inBeta.userId}`],
    ['POST', `/admin/users/${inBeta.userId}/disable`],
    ['POST', `/admin/users/${inBeta.userId}/logout`],
    ['POST', `/admin/users/${inBeta.userId}/password-reset`],
    ['GET', `/admin/users/${inBeta.userId}/export`],
    ['GET', `/admin/sessions?user=${inBeta.userId}`],
    ['DELETE', `/admin/sessions/${betaSession}`],
  ] as Array<[string, string, unknown?]>) {
    const r = await http(base, method, path, { token: acmeAdmin, ...(json ? { json } : {}) });
    t.equal(r.status, 404, `${method} ${path} → 404`);
  }
  const sessions = await http(base, 'GET', '/admin/sessions', { token: acmeAdmin });
  t.ok(sessions.body.every((s: { tenant: string }) => s.tenant === 'acme'));
  t.equal((await http(base, 'GET', '/auth/me', { token: inBeta.access })).status, 200, 'tenant B user untouched');

  const created = await http(base, 'POST', '/admin/users', { token: acmeAdmin, json: { email: uniqueEmail(), username: 'scopedmade' } });
  t.equal(created.status, 201);
  t.equal(created.body.user.tenant, 'acme', 'created in the admin’s own tenant');
  t.equal((await http(base, 'POST', '/admin/users', { token: acmeAdmin, json: { email: uniqueEmail(), username: 'crosstenant', tenant: 'beta' } })).status, 400);
  t.equal((await http(base, 'GET', '/admin/tenants', { token: acmeAdmin })).status, 403);

  // The global admin sees both.
  t.equal((await http(base, 'GET', `/admin/users/${inBeta.userId}`, { token: admin })).status, 200);
});

t.test('no privilege escalation: a limited admin cannot grant or act on administrative roles it lacks', async (t) => {
  const support = await loginWithRoles(ta, ['support']);
  const self = await http(base, 'PATCH', `/admin/users/${support.userId}`, { token: support.access, json: { roles: ['admin'] } });
  t.equal(self.status, 403, 'cannot make itself admin');
  t.equal(self.body.code, 'ERR_PRIVILEGE_ESCALATION');
  const ops = await http(base, 'PATCH', `/admin/users/${support.userId}`, { token: support.access, json: { roles: ['support', 'tenantops'] } });
  t.equal(ops.status, 403, 'cannot add admin:tenants');
  const made = await http(base, 'POST', '/admin/users', { token: support.access, json: { email: uniqueEmail(), username: 'wannabe', roles: ['admin'] } });
  t.equal(made.status, 403, 'cannot create an admin');
  const boss = await loginWithRoles(ta, ['admin']);
  for (const [method, path] of [['POST', `/admin/users/${boss.userId}/disable`], ['DELETE', `/admin/users/${boss.userId}`], ['POST', `/admin/users/${boss.userId}/logout`], ['PATCH', `/admin/users/${boss.userId}`]] as const) {
    const r = await http(base, method, path, { token: support.access, ...(method === 'PATCH' ? { json: { roles: ['user'] } } : {}) });
    t.equal(r.status, 403, `${method} ${path} on an admin → 403`);
  }
  t.equal((await http(base, 'GET', '/auth/me', { token: boss.access })).status, 200, 'the admin is untouched');
  t.equal((await http(base, 'GET', `/admin/users/${boss.userId}`, { token: support.access })).status, 200, 'but visible');
  // Application roles stay assignable, and the global admin can do all of it.
  const plain = await registerAndLogin(base);
  const viewer = await http(base, 'PATCH', `/admin/users/${plain.userId}`, { token: support.access, json: { roles: ['editor'] } });
  t.equal(viewer.status, 200);
  t.equal((await http(base, 'PATCH', `/admin/users/${support.userId}`, { token: admin, json: { roles: ['support', 'tenantops'] } })).status, 200);
});

t.test('users list: filters and cursor pagination return every user exactly once', async (t) => {
  const core = ta.app.context.core;
  const scope = { actor: 'test', tenantId: null, meta: { ip: null, userAgent: null } };
  await core.admin.tenants.create(scope, { slug: 'pages', name: 'Pages' });
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    const u = await core.admin.users.create(scope, { email: `page${i}@pages.example.com`, username: `pageuser${i}`, tenant: 'pages', roles: i % 2 ? ['viewer'] : ['user'] });
    ids.push(u.id);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r: { status: number; body: { items: Array<{ id: string }>; next_cursor: string | null } } = await http(base, 'GET', `/admin/users?tenant=pages&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: admin });
    t.equal(r.status, 200);
    t.ok(r.body.items.length <= 2);
    seen.push(...r.body.items.map((u) => u.id));
    cursor = r.body.next_cursor;
    pages++;
  } while (cursor && pages < 20);
  t.equal(pages, 4);
  t.same(seen.slice().sort(), ids.slice().sort(), 'every user exactly once');
  t.equal(new Set(seen).size, seen.length);

  const viewers = await http(base, 'GET', '/admin/users?tenant=pages&role=viewer&limit=2', { token: admin });
  t.ok(viewers.body.items.every((u: { roles: string[] }) => u.roles.includes('viewer')));
  let all: string[] = viewers.body.items.map((u: { id: string }) => u.id);
  let next = viewers.body.next_cursor;
  while (next) {
    const r = await http(base, 'GET', `/admin/users?tenant=pages&role=viewer&limit=2&cursor=${encodeURIComponent(next)}`, { token: admin });
    all = all.concat(r.body.items.map((u: { id: string }) => u.id));
    next = r.body.next_cursor;
  }
  t.same(all.sort(), ids.filter((_, i) => i % 2).sort(), 'role filter with pagination');

  const prefix = await http(base, 'GET', '/admin/users?q=PAGE3@', { token: admin });
  t.same(prefix.body.items.map((u: { id: string }) => u.id), [ids[3]], 'email prefix, case-insensitive');
  await core.admin.users.disable(scope, ids[5]!);
  const dis = await http(base, 'GET', '/admin/users?tenant=pages&disabled=true', { token: admin });
  t.same(dis.body.items.map((u: { id: string }) => u.id), [ids[5]]);

  for (const q of ['cursor=garbage', 'limit=0', 'limit=abc', 'disabled=maybe', 'unknown=1', 'limit=1&limit=2'])
    t.equal((await http(base, 'GET', `/admin/users?${q}`, { token: admin })).status, 400, `?${q} → 400`);
});
