// Session lifecycle over real HTTP with an injected ManualClock: rolling idle expiry capped by the
// absolute lifetime, logout-all, password change keeping the current session, the cleanup job, and the
// operator session service (list/revoke) that authctl and /admin use.
import t from 'tap';
import { ManualClock } from '../../core/clock.js';
import { sha256Hex } from '../../core/crypto/secrets.js';
import type { AdminScope } from '../../core/services/user-admin.service.js';
import { PASSWORD, http, registerAndLogin, startTestApp, type TestApp } from '../helpers/app.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const clock = new ManualClock(Date.UTC(2030, 0, 1));
let ta: TestApp;

t.before(async () => {
  ta = await startTestApp({ clock, config: { tokens: { refresh_idle_ttl: '1h', session_max_age: '3h', session_retention: '30d' } } });
});
t.teardown(async () => ta.close());

const core = () => ta.app.context.core;
const login = async (email: string, password = PASSWORD) => {
  const res = await http(ta.url, 'POST', '/auth/login', { json: { email, password } });
  if (res.status !== 200) throw new Error(`login ${res.status} ${res.text}`);
  return { access: res.body.access_token as string, refresh: res.body.refresh_token as string };
};
const refresh = (token: string) => http(ta.url, 'POST', '/auth/refresh', { json: { refresh_token: token } });
const sidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).sid as string;

t.test('rolling refresh extends the idle window, never past the absolute lifetime', async (t) => {
  const user = await registerAndLogin(ta.url);
  const sid = sidOf(user.access);
  const created = clock.now();
  let rt = user.refresh;
  // Every 50 min (idle TTL 1 h): without the rolling window the session would die at +60 min.
  for (const step of [50, 100, 150]) {
    clock.set(created + step * MIN);
    const res = await refresh(rt);
    t.equal(res.status, 200, `refresh at +${step} min`);
    rt = res.body.refresh_token;
    const s = await core().repos.sessions.findByIdAnyTenant(sid);
    const expectedIdle = Math.min(created + (step + 60) * MIN, created + 180 * MIN);
    t.equal(s?.idleExpiresAt.getTime(), expectedIdle, `idle expiry at +${step} min = min(now + 1h, absolute)`);
    t.equal(s?.lastUsedAt.getTime(), created + step * MIN, 'last_used_at moved');
  }
  clock.set(created + 170 * MIN);
  const capped = await refresh(rt);
  t.equal(capped.status, 200);
  rt = capped.body.refresh_token;
  const s = await core().repos.sessions.findByIdAnyTenant(sid);
  t.equal(s?.idleExpiresAt.getTime(), created + 180 * MIN, 'idle expiry clamped to the absolute cap');
  t.equal(s?.absoluteExpiresAt.getTime(), created + 180 * MIN, 'absolute expiry never moves');
  clock.set(created + 180 * MIN + 1000);
  const dead = await refresh(rt);
  t.equal(dead.status, 401, 'past the absolute cap even a fresh refresh token is refused');
  t.equal(dead.body.code, 'ERR_REFRESH_TOKEN_INVALID');
});

t.test('idle expiry: a session not refreshed within the idle window ends', async (t) => {
  const user = await registerAndLogin(ta.url);
  clock.advance(59 * MIN);
  const alive = await http(ta.url, 'GET', '/auth/sessions', { token: (await login(user.email)).access });
  t.ok(alive.body.some((s: { id: string }) => s.id === sidOf(user.access)), 'listed while inside the idle window');
  clock.advance(2 * MIN);
  const res = await refresh(user.refresh);
  t.equal(res.status, 401);
  t.equal(res.body.code, 'ERR_REFRESH_TOKEN_INVALID');
  const list = await http(ta.url, 'GET', '/auth/sessions', { token: (await login(user.email)).access });
  t.notOk(list.body.some((s: { id: string }) => s.id === sidOf(user.access)), 'idle-expired session no longer listed');
});

t.test('GET /auth/sessions marks the current one; DELETE another of mine revokes it; someone else\'s is 404', async (t) => {
  const user = await registerAndLogin(ta.url);
  const second = await login(user.email);
  const list = await http(ta.url, 'GET', '/auth/sessions', { token: second.access });
  t.equal(list.status, 200);
  t.equal(list.body.length, 2);
  t.same(list.body.filter((s: { current: boolean }) => s.current).map((s: { id: string }) => s.id), [sidOf(second.access)]);
  const del = await http(ta.url, 'DELETE', `/auth/sessions/${sidOf(user.access)}`, { token: second.access });
  t.equal(del.status, 204);
  const gone = await http(ta.url, 'GET', '/auth/me', { token: user.access });
  t.equal(gone.status, 401);
  t.equal(gone.body.code, 'ERR_TOKEN_REVOKED', 'the deleted session\'s access token is rejected at once');
  t.equal((await refresh(user.refresh)).status, 401);
  const other = await registerAndLogin(ta.url);
  const foreign = await http(ta.url, 'DELETE', `/auth/sessions/${sidOf(other.access)}`, { token: second.access });
  t.equal(foreign.status, 404);
  t.equal((await http(ta.url, 'GET', '/auth/me', { token: other.access })).status, 200, 'the other user\'s session is untouched');
  const s = await core().repos.sessions.findByIdAnyTenant(sidOf(user.access));
  t.equal(s?.revokedReason, 'logout', 'soft-revoked with a reason; the row is kept for audit');
});

t.test('logout-all revokes every session of the user (SPEC §3), other users untouched', async (t) => {
  const user = await registerAndLogin(ta.url);
  const b = await login(user.email);
  const c = await login(user.email);
  const other = await registerAndLogin(ta.url);
  const res = await http(ta.url, 'POST', '/auth/logout-all', { token: b.access });
  t.equal(res.status, 204);
  for (const [name, tok] of [['first', user.access], ['caller', b.access], ['third', c.access]] as const) {
    const me = await http(ta.url, 'GET', '/auth/me', { token: tok });
    t.equal(me.body.code, 'ERR_TOKEN_REVOKED', `${name} session rejected`);
  }
  for (const rt of [user.refresh, b.refresh, c.refresh]) t.equal((await refresh(rt)).status, 401);
  t.equal((await http(ta.url, 'GET', '/auth/me', { token: other.access })).status, 200);
  const rows = await core().repos.sessions.listForUser((await core().tenants.resolve(undefined)).id, user.userId);
  t.same(new Set(rows.map((r) => r.revokedReason)), new Set(['logout_all']));
});

t.test('password change revokes the other sessions and keeps the current one', async (t) => {
  const user = await registerAndLogin(ta.url);
  const current = await login(user.email);
  const third = await login(user.email);
  const res = await http(ta.url, 'POST', '/auth/password/change', {
    token: current.access,
    json: { current_password: PASSWORD, new_password: 'a brand new passphrase 42' },
  });
  t.equal(res.status, 204);
  for (const tok of [user.access, third.access]) t.equal((await http(ta.url, 'GET', '/auth/me', { token: tok })).body.code, 'ERR_TOKEN_REVOKED');
  for (const rt of [user.refresh, third.refresh]) t.equal((await refresh(rt)).status, 401);
  t.equal((await http(ta.url, 'GET', '/auth/me', { token: current.access })).status, 200, 'current access token still works');
  const next = await refresh(current.refresh);
  t.equal(next.status, 200, 'current session can still refresh');
  const list = await http(ta.url, 'GET', '/auth/sessions', { token: next.body.access_token });
  t.same(list.body.map((s: { id: string; current: boolean }) => [s.id, s.current]), [[sidOf(current.access), true]]);
  const reasons = (await core().repos.sessions.listForUser((await core().tenants.resolve(undefined)).id, user.userId)).map((s) => s.revokedReason);
  t.same(reasons.filter(Boolean).sort(), ['password_change', 'password_change']);
});

t.test('operator session service: list (user / active filters), revoke one, revoke all of a user', async (t) => {
  const scope: AdminScope = { actor: 'cli:test', tenantId: null, meta: { ip: null, userAgent: null } };
  const svc = core().admin.sessions;
  const user = await registerAndLogin(ta.url);
  const b = await login(user.email);
  const listed = await svc.list(scope, { user: user.email });
  t.same(listed.map((s) => s.id).sort(), [sidOf(user.access), sidOf(b.access)].sort());
  t.ok(listed.every((s) => s.active && s.user_id === user.userId && s.tenant === 'default'));
  t.equal(await svc.revoke(scope, sidOf(user.access)), true);
  t.equal(await svc.revoke(scope, sidOf(user.access)), false, 'revoking twice is idempotent');
  t.equal((await http(ta.url, 'GET', '/auth/me', { token: user.access })).body.code, 'ERR_TOKEN_REVOKED');
  const active = await svc.list(scope, { user: user.userId, active: true });
  t.same(active.map((s) => s.id), [sidOf(b.access)]);
  const all = await svc.list(scope, { user: user.userId });
  t.equal(all.find((s) => s.id === sidOf(user.access))?.revoked_reason, 'admin');
  await t.rejects(svc.revoke(scope, '00000000-0000-4000-8000-000000000000'), { code: 'ERR_NOT_FOUND', status: 404 });
  await t.rejects(svc.revoke(scope, 'not-a-uuid'), { code: 'ERR_NOT_FOUND' });
  const foreignScope: AdminScope = { ...scope, tenantId: '00000000-0000-4000-8000-000000000001' };
  await t.rejects(svc.revoke(foreignScope, sidOf(b.access)), { code: 'ERR_NOT_FOUND' }, 'another tenant\'s admin cannot see it');
  t.equal(await svc.revokeForUser(scope, user.email), 1);
  t.equal((await http(ta.url, 'GET', '/auth/me', { token: b.access })).body.code, 'ERR_TOKEN_REVOKED');
  await t.rejects(svc.revokeForUser(scope, 'nobody@example.com'), { code: 'ERR_NOT_FOUND' });
});

t.test('cleanup purges sessions (and refresh tokens) ended longer than the retention, keeps the rest', async (t) => {
  const svc = core().sessionCleanup;
  await svc.run(); // earlier subtests' sessions are ended but within retention
  const revoked = await registerAndLogin(ta.url);
  await http(ta.url, 'POST', '/auth/logout', { json: { refresh_token: revoked.refresh } });
  const expiring = await registerAndLogin(ta.url); // idle-expires after 1 h, absolute 3 h
  clock.advance(29 * DAY);
  const live = await registerAndLogin(ta.url);
  const tokensOf = (userId: string) => core().db.models.EmailToken.count({ where: { user_id: userId } });
  t.ok((await tokensOf(revoked.userId)) >= 1, 'the registration left a (now expired) verification token');
  t.equal((await svc.run()).purged, 0, 'nothing ended more than 30 days ago yet');
  t.equal(await tokensOf(revoked.userId), 0, 'expired one-time email tokens are purged in the same pass');
  clock.advance(DAY + MIN);
  // The revoked session and the idle-expired one ended ~30 d + 1 min ago (idle: +1 h after creation).
  const first = await svc.run();
  t.ok(first.purged >= 1, 'the revoked session (and earlier subtests\' ended ones) purged');
  t.equal(await core().repos.sessions.findByIdAnyTenant(sidOf(revoked.access)), null);
  t.equal(await core().repos.sessions.findRefreshToken(sha256Hex(revoked.refresh)), null, 'its refresh tokens went with it');
  t.ok(await core().repos.sessions.findByIdAnyTenant(sidOf(expiring.access)));
  clock.advance(2 * 60 * MIN);
  t.ok((await svc.run()).purged >= 1, 'idle-expired session purged once its end is past retention');
  t.equal(await core().repos.sessions.findByIdAnyTenant(sidOf(expiring.access)), null);
  t.ok(await core().repos.sessions.findByIdAnyTenant(sidOf(live.access)), 'a session that ended recently is kept');
});
