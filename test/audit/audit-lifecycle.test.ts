// The audit trail through the real HTTP server: a full session lifecycle (register, failed login, login,
// refresh, reuse detected, logout), a password reset, an admin disabling a user and a policy reload
// appear in order with the right actor, tenant and outcome; GET /admin/audit filters and is tenant
// scoped; no planted secret, token or reset link reaches any audit row or log line; and a database that
// refuses the row fails the request with 503.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createLogger } from '../../core/logger.js';
import type { AuditEventView } from '../../core/audit/chained-audit-log.js';
import { DEFAULT_TEST_POLICY, http, loginWithRoles, startTestApp, uniqueEmail } from '../helpers/app.js';
import { decodeQuotedPrintable, extractLink, tokenOf } from '../email/smtp-harness.js';
import { LogCapture, rawSql } from './audit-helpers.js';

const MARKER = 'SECRET-MARKER-7f3a';
const PASSWORD = `${MARKER} purple lagoon`;
const WRONG = `${MARKER} wrong guess`;
const NEW_PASSWORD = `${MARKER} fresh orchard`;
const UA = 'audit-test/1.0';

const policy = (upstream: string) =>
  DEFAULT_TEST_POLICY(upstream).replace('  admin: { permissions: ["*"] }', '  admin: { permissions: ["*"] }\n  auditor: { permissions: ["admin:audit"] }');

t.test('audit trail over HTTP', async (t) => {
  const logs = new LogCapture();
  const app = await startTestApp({ policy, logger: createLogger('debug', logs) });
  t.teardown(() => app.close());
  const core = app.app.context.core;
  const secrets: string[] = [MARKER];
  const headers = { 'user-agent': UA };

  // --- the lifecycle --------------------------------------------------------------------------
  const email = uniqueEmail('audit');
  const reg = await http(app.url, 'POST', '/auth/register', { json: { email, username: `aud${Date.now().toString(36)}`, password: PASSWORD }, headers });
  t.equal(reg.status, 201);
  const userId = reg.body.user.id as string;
  t.equal((await http(app.url, 'POST', '/auth/login', { json: { email, password: WRONG }, headers })).status, 401);
  const login = await http(app.url, 'POST', '/auth/login', { json: { email, password: PASSWORD }, headers });
  t.equal(login.status, 200);
  secrets.push(login.body.access_token, login.body.refresh_token);
  const refreshed = await http(app.url, 'POST', '/auth/refresh', { json: { refresh_token: login.body.refresh_token }, headers });
  t.equal(refreshed.status, 200);
  secrets.push(refreshed.body.access_token, refreshed.body.refresh_token);
  const reused = await http(app.url, 'POST', '/auth/refresh', { json: { refresh_token: login.body.refresh_token }, headers });
  t.equal(reused.status, 401);
  t.equal(reused.body.code, 'ERR_REFRESH_TOKEN_REUSED');
  const login2 = await http(app.url, 'POST', '/auth/login', { json: { email, password: PASSWORD }, headers });
  secrets.push(login2.body.access_token, login2.body.refresh_token);
  t.equal((await http(app.url, 'POST', '/auth/logout', { token: login2.body.access_token, headers })).status, 204);

  // --- password reset (the link's token must not be stored or logged) ---------------------------
  t.equal((await http(app.url, 'POST', '/auth/password-reset/request', { json: { email }, headers })).status, 202);
  await core.passwordReset.idle();
  const outbox = app.config.mail.outbox_dir;
  const resetMail = readdirSync(outbox)
    .map((f) => readFileSync(join(outbox, f), 'utf8'))
    .find((raw) => /^Subject: Reset/m.test(raw));
  t.ok(resetMail, 'reset mail in the outbox');
  const link = extractLink({ decoded: decodeQuotedPrintable(resetMail!) });
  const resetToken = tokenOf(link);
  secrets.push(resetToken, link);
  t.equal((await http(app.url, 'POST', '/auth/password-reset/confirm', { json: { token: resetToken, new_password: NEW_PASSWORD }, headers })).status, 204);

  // --- an admin disables the user, then a policy reload ---------------------------------------
  const admin = await loginWithRoles(app, ['admin']);
  secrets.push(admin.access, admin.refresh);
  t.equal((await http(app.url, 'POST', `/admin/users/${userId}/disable`, { token: admin.access, headers })).status < 300, true, 'disabled');
  const reload = await app.app.context.policies.reload('test');
  t.equal(reload.ok, true);

  // --- what the trail says --------------------------------------------------------------------
  const wanted = new Set(['auth.register', 'auth.login.failed', 'auth.login.succeeded', 'auth.refresh', 'auth.refresh.reused', 'auth.logout', 'auth.password.reset', 'admin.user.disabled']);
  const all: AuditEventView[] = [];
  for await (const e of core.auditQuery.export({})) all.push(e);
  const mine = all.filter((e) => (e.actor === userId || e.target === userId) && wanted.has(e.action));
  const sid1 = all.find((e) => e.action === 'auth.refresh')?.target;
  t.match(
    mine.map((e) => ({ action: e.action, actor: e.actor, tenant: e.tenant, target: e.target, outcome: e.outcome })),
    [
      { action: 'auth.register', actor: userId, tenant: 'default', target: userId, outcome: 'success' },
      { action: 'auth.login.failed', actor: userId, tenant: 'default', target: userId, outcome: 'failure' },
      { action: 'auth.login.succeeded', actor: userId, tenant: 'default', target: userId, outcome: 'success' },
      { action: 'auth.refresh', actor: userId, tenant: 'default', target: sid1, outcome: 'success' },
      { action: 'auth.refresh.reused', actor: userId, tenant: 'default', target: sid1, outcome: 'failure' },
      { action: 'auth.login.succeeded', actor: userId, tenant: 'default', outcome: 'success' },
      { action: 'auth.logout', actor: userId, tenant: 'default', outcome: 'success' },
      { action: 'auth.password.reset', actor: userId, tenant: 'default', target: userId, outcome: 'success' },
      { action: 'admin.user.disabled', actor: admin.userId, tenant: 'default', target: userId, outcome: 'success' },
    ],
  );
  t.equal(mine.length, 9, 'exactly these lifecycle events');
  t.match(mine[1]!.details, { reason: 'wrong_password' });
  t.match(mine[6]!.details, { reason: 'logout' });
  t.ok(mine.every((e) => e.ip === '127.0.0.1' && e.user_agent === UA), 'ip and user agent recorded');
  const seqs = mine.map((e) => e.seq);
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'in seq order');
  const reloaded = all.filter((e) => e.action === 'policy.reloaded');
  t.match(reloaded.at(-1), { actor: 'system', tenant: null, outcome: 'success', details: { trigger: 'test' } });
  t.ok(reloaded.at(-1)!.seq > mine.at(-1)!.seq, 'the reload comes after the disable');
  t.equal((await core.auditQuery.verify()).ok, true, 'chain intact');

  // --- GET /admin/audit -----------------------------------------------------------------------
  await t.test('GET /admin/audit filters, pages and checks admin:audit', async (t) => {
    const res = await http(app.url, 'GET', `/admin/audit?user=${userId}&action=auth.refresh.*&limit=5`, { token: admin.access });
    t.equal(res.status, 200);
    t.same(res.body.events.map((e: AuditEventView) => e.action), ['auth.refresh.reused']);
    const prefix = await http(app.url, 'GET', `/admin/audit?user=${userId}&action=auth.*&limit=2`, { token: admin.access });
    t.equal(prefix.body.events.length, 2);
    t.type(prefix.body.next_cursor, 'string');
    const next = await http(app.url, 'GET', `/admin/audit?user=${userId}&action=auth.*&limit=2&cursor=${prefix.body.next_cursor}`, { token: admin.access });
    t.ok(next.body.events[0].seq < prefix.body.events[1].seq, 'next page is older');
    t.equal(res.headers['cache-control'], 'no-store');
    const bad = await http(app.url, 'GET', '/admin/audit?action=DROP%20TABLE&since=yesterday', { token: admin.access });
    t.equal(bad.status, 400);
    t.equal(bad.body.code, 'ERR_VALIDATION');
    t.equal((await http(app.url, 'GET', '/admin/audit?bogus=1', { token: admin.access })).status, 400, 'unknown parameter');
    t.equal((await http(app.url, 'GET', '/admin/audit')).status, 401);
    const plain = await http(app.url, 'GET', '/admin/audit', { token: login2.body.access_token });
    t.equal(plain.status, 401, 'logged-out token is revoked');
    const user = await loginWithRoles(app, ['user']);
    const forbidden = await http(app.url, 'GET', '/admin/audit', { token: user.access });
    t.equal(forbidden.status, 403);
    t.equal(forbidden.body.code, 'ERR_PERMISSION_DENIED');
  });

  await t.test('an admin:audit holder without admin:tenants sees only its own tenant', async (t) => {
    t.equal((await http(app.url, 'POST', '/admin/tenants', { token: admin.access, json: { slug: 'acme' } })).status, 201);
    const other = await http(app.url, 'POST', '/auth/register', { json: { email: uniqueEmail('acme'), username: `acme${Date.now().toString(36)}`, password: PASSWORD, tenant: 'acme' } });
    t.equal(other.status, 201);
    const auditor = await loginWithRoles(app, ['auditor']);
    secrets.push(auditor.access, auditor.refresh);
    const own = await http(app.url, 'GET', '/admin/audit?limit=1000', { token: auditor.access });
    t.equal(own.status, 200);
    t.ok(own.body.events.length > 0);
    t.ok(own.body.events.every((e: AuditEventView) => e.tenant === 'default'), 'only default-tenant events');
    t.equal((await http(app.url, 'GET', '/admin/audit?tenant=acme', { token: auditor.access })).status, 404);
    const cross = await http(app.url, 'GET', '/admin/audit?tenant=acme', { token: admin.access });
    t.ok(cross.body.events.some((e: AuditEventView) => e.action === 'auth.register' && e.target === other.body.user.id), 'admin:tenants sees acme');
  });

  // --- no secret anywhere ---------------------------------------------------------------------
  await t.test('no password, token or reset link in any audit row or log line', async (t) => {
    const rows = JSON.stringify(await rawSql(core, 'SELECT * FROM audit_events'));
    t.ok(logs.lines.length > 20, 'logs were captured');
    for (const s of secrets) {
      t.notOk(rows.includes(s), `audit rows free of ${s.slice(0, 12)}…`);
      t.notOk(logs.text.includes(s), `logs free of ${s.slice(0, 12)}…`);
    }
    t.ok(logs.lines.some((l) => l.includes('"audit"') && l.includes('auth.login.failed')), 'audit events are log lines too');
  });

  // --- fail closed ----------------------------------------------------------------------------
  await t.test('a database that refuses the audit row fails the request with 503', async (t) => {
    await rawSql(core, 'DROP TABLE audit_events');
    const res = await http(app.url, 'POST', '/auth/login', { json: { email: admin.email, password: admin.password } });
    t.equal(res.status, 503);
    t.equal(res.body.code, 'ERR_AUDIT_UNAVAILABLE');
    t.equal(res.headers['retry-after'], '5');
    t.ok(logs.lines.some((l) => l.includes('"persisted":false') && l.includes('auth.login.succeeded')), 'the event is in the error log line');
  });
});
