// authctl end to end: the built binary against a real database (SQLite, or PostgreSQL with
// TEST_DATABASE_URL) shared with a running server, so effects are checked over real HTTP.
import t from 'tap';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/main.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { http, PASSWORD, registerAndLogin, startTestApp, uniqueEmail, type TestApp } from '../helpers/app.js';
import { authctlFor, parseJson, runAuthctl, type CliResult } from './authctl-runner.js';

// ~70 real process starts (each loads the full CLI and opens the database): allow more than the default
// per-file timeout on a loaded machine.
t.setTimeout(900_000);

let db: TestDatabase;
let dir: string;
let testApp: TestApp;
let base: string;
let authctl: ReturnType<typeof authctlFor>;
let firstMigrate: CliResult;

t.before(async () => {
  db = await createTestDatabase('cli');
  dir = mkdtempSync(join(tmpdir(), 'authctl-'));
  // The schema must come from authctl itself (the Helm migration Job does exactly this).
  const placeholderPolicy = join(dir, 'placeholder.yaml');
  writeFileSync(placeholderPolicy, 'version: 1\nroutes: []\n');
  firstMigrate = await runAuthctl(['migrate', '--database-url', db.url], { env: { POLICIES_FILE: placeholderPolicy } });
  testApp = await startTestApp({ databaseUrl: db.url, config: {
      // Lockout after 3 failures; the per-IP brute-force slow-down and auth rate limits stay out of the way
      // (every request of this file comes from 127.0.0.1).
      security: { login_max_failures: 3, login_slow_after: 1000, rate_limit_auth_points: 0 },
    }, });
  base = testApp.url;
  authctl = authctlFor(db.url, testApp.policyFile, { AUTHGATE_MAIL_OUTBOX_DIR: join(dir, 'outbox') });
});
t.teardown(async () => {
  await testApp?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

t.test('authctl migrate creates the schema on an empty database', async (t) => {
  t.equal(firstMigrate.code, 0, `migrate: ${firstMigrate.stderr}`);
  t.match(firstMigrate.stdout, /applied \d+ migration/);
  t.match(firstMigrate.stdout, /001-foundation/);
});

t.test('migrate is idempotent and --json parses', async (t) => {
  const r = await authctl(['migrate', '--json']);
  t.equal(r.code, 0);
  t.same(parseJson(r), { applied: [] });
  const s = await authctl(['migrate', '--status', '--json']);
  t.same(parseJson(s), { pending: [] });
});

t.test('every command has --help with an example and the global options', async (t) => {
  // Every leaf command of the real program, in process (spawning ~25 binaries adds nothing)…
  const leaves: Command[] = [];
  const walk = (c: Command) => (c.commands.length ? c.commands.forEach(walk) : leaves.push(c));
  walk(buildProgram());
  t.ok(leaves.length >= 22, `${leaves.length} commands`);
  for (const c of leaves) {
    const name = `${c.parent?.name() === 'authctl' ? '' : `${c.parent?.name()} `}${c.name()}`;
    let help = '';
    c.configureOutput({ writeOut: (s) => (help += s), writeErr: () => undefined });
    c.outputHelp();
    t.match(help, /Example/, `${name}: example`);
    for (const flag of ['--config', '--database-url', '--json']) t.match(help, flag, `${name}: ${flag}`);
  }
  // …and the binary itself answers --help with exit 0.
  for (const args of [['--help'], ['user', 'create', '--help'], ['policies', 'explain', '--help']]) {
    const r = await runAuthctl(args);
    t.equal(r.code, 0, `${args.join(' ')} exit 0`);
    t.match(r.stdout, /Usage: authctl/);
  }
});

t.test('bad usage exits 2', async (t) => {
  for (const args of [['user', 'frobnicate'], ['user', 'show'], ['user', 'list', '--limit', 'abc'], ['sessions', 'revoke'], ['user', 'create', '--email', 'x@example.com'], ['nonsense'], []]) {
    const r = await authctl(args);
    t.equal(r.code, 2, `${args.join(' ') || '(no args)'} → 2: ${r.stderr.split('\n')[0]}`);
  }
});

t.test('secrets are never accepted in argv', async (t) => {
  for (const flag of [['--password', PASSWORD], [`--password=${PASSWORD}`]]) {
    const r = await authctl(['user', 'create', '--email', uniqueEmail('argv'), '--username', 'argvuser', ...flag]);
    t.equal(r.code, 2);
    t.match(r.stderr, /--password-stdin/);
  }
  const list = parseJson<any[]>(await authctl(['user', 'list', '--json', '--email-prefix', 'argv']));
  t.same(list, [], 'nothing was created');
});

t.test('user create --password-stdin: the user can log in; roles are validated against policies.yaml', async (t) => {
  const email = uniqueEmail('stdin');
  const r = await authctl(['user', 'create', '--email', email.toUpperCase(), '--username', 'stdinuser', '--role', 'editor', '--role', 'viewer', '--password-stdin', '--json'], {
    input: `${PASSWORD}\n`,
  });
  t.equal(r.code, 0, r.stderr);
  const user = parseJson(r);
  t.equal(user.email, email, 'email stored normalised');
  t.same(user.roles, ['editor', 'viewer']);
  t.equal(user.tenant, 'default');
  const login = await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD } });
  t.equal(login.status, 200);

  const bad = await authctl(['user', 'create', '--email', uniqueEmail(), '--username', 'badrole', '--role', 'superuser']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /superuser/);
  t.match(bad.stderr, /admin, editor, user, viewer/, 'lists the known roles');

  const dup = await authctl(['user', 'create', '--email', email, '--username', 'stdinuser2']);
  t.equal(dup.code, 1, 'duplicate email → failed');

  const weak = await authctl(['user', 'create', '--email', uniqueEmail(), '--username', 'weakpw', '--password-stdin'], { input: 'short\n' });
  t.equal(weak.code, 2, 'password policy → bad usage');
  const empty = await authctl(['user', 'create', '--email', uniqueEmail(), '--username', 'emptypw', '--password-stdin'], { input: '' });
  t.equal(empty.code, 2, 'empty stdin → bad usage');
});

t.test('user list/show: table, JSON, unknown user → 3', async (t) => {
  const { email, userId } = await registerAndLogin(base);
  const table = await authctl(['user', 'list']);
  t.equal(table.code, 0);
  t.match(table.stdout, /^ID\s+EMAIL\s+USERNAME\s+TENANT\s+ROLES\s+STATUS\s+CREATED/);
  t.match(table.stdout, email);
  const all = parseJson<any[]>(await authctl(['user', 'list', '--json']));
  t.ok(all.some((u) => u.id === userId && u.email === email));
  for (const u of all) t.same(Object.keys(u).sort(), ['created_at', 'disabled', 'email', 'email_verified', 'id', 'locked', 'roles', 'tenant', 'username']);
  const limited = parseJson<any[]>(await authctl(['user', 'list', '--json', '--limit', '1']));
  t.equal(limited.length, 1);

  const byEmail = parseJson(await authctl(['user', 'show', email, '--json']));
  t.equal(byEmail.id, userId);
  const byId = parseJson(await authctl(['user', 'show', userId, '--json']));
  t.equal(byId.email, email);
  t.equal((await authctl(['user', 'show', 'nobody@example.com'])).code, 3);
  t.equal((await authctl(['user', 'show', '00000000-0000-4000-8000-000000000000'])).code, 3);
  t.equal((await authctl(['user', 'disable', 'nobody@example.com'])).code, 3);
});

t.test('user set-role replaces roles; unknown role → 2 listing the known ones', async (t) => {
  const { email, userId } = await registerAndLogin(base);
  const r = await authctl(['user', 'set-role', email, 'admin', 'viewer', '--json']);
  t.equal(r.code, 0, r.stderr);
  t.same(parseJson(r).roles, ['admin', 'viewer']);
  const bad = await authctl(['user', 'set-role', userId, 'root']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /known roles: admin, editor, user, viewer/);
  t.same(parseJson(await authctl(['user', 'show', userId, '--json'])).roles, ['admin', 'viewer'], 'unchanged by the refused call');
});

t.test('user disable: login fails and live tokens are rejected by the running server; enable restores login', async (t) => {
  const { email, access, refresh } = await registerAndLogin(base);
  t.equal((await http(base, 'GET', '/auth/me', { token: access })).status, 200);
  const started = Date.now();
  const r = await authctl(['user', 'disable', email]);
  t.equal(r.code, 0, r.stderr);
  const cliDone = Date.now();
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD } })).status, 401, 'login refused at once');
  t.equal((await http(base, 'POST', '/auth/refresh', { json: { refresh_token: refresh } })).status, 401, 'refresh refused at once');
  // The server learns about the disable from the database poll (or Redis); wait for it, bounded.
  let status = 200;
  for (let i = 0; i < 100 && status === 200; i++) {
    status = (await http(base, 'GET', '/auth/me', { token: access })).status;
    if (status === 200) await new Promise((res) => setTimeout(res, 50));
  }
  t.equal(status, 401, 'the live access token is rejected');
  t.comment(`token rejected ${Date.now() - cliDone} ms after authctl exited (${Date.now() - started} ms after it started)`);

  const shown = parseJson(await authctl(['user', 'show', email, '--json']));
  t.equal(shown.disabled, true);
  t.equal((await authctl(['user', 'enable', email])).code, 0);
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD } })).status, 200, 'login works again');
});

t.test('user unlock clears a lockout', async (t) => {
  const { email } = await registerAndLogin(base);
  for (let i = 0; i < 3; i++) await http(base, 'POST', '/auth/login', { json: { email, password: 'wrong password 123' } });
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD } })).status, 401, 'locked');
  t.equal(parseJson(await authctl(['user', 'show', email, '--json'])).locked, true);
  const r = await authctl(['user', 'unlock', email, '--json']);
  t.equal(r.code, 0);
  t.equal(parseJson(r).locked, false);
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD } })).status, 200);
});

t.test('sessions list/revoke', async (t) => {
  const a = await registerAndLogin(base);
  const second = await http(base, 'POST', '/auth/login', { json: { email: a.email, password: PASSWORD } });
  const list = parseJson<any[]>(await authctl(['sessions', 'list', '--user', a.email, '--active', '--json']));
  t.equal(list.length, 2);
  t.ok(list.every((s) => s.user_id === a.userId && s.active === true && s.tenant === 'default'));
  const table = await authctl(['sessions', 'list', '--user', a.userId]);
  t.match(table.stdout, /^ID\s+USER\s+TENANT\s+STATE/);

  const one = await authctl(['sessions', 'revoke', list[0].id]);
  t.equal(one.code, 0, one.stderr);
  t.equal(parseJson<any[]>(await authctl(['sessions', 'list', '--user', a.email, '--active', '--json'])).length, 1);
  const all = await authctl(['sessions', 'revoke', '--user', a.email, '--json']);
  t.equal(all.code, 0);
  t.equal(parseJson(all).revoked, 1);
  t.same(parseJson<any[]>(await authctl(['sessions', 'list', '--user', a.email, '--active', '--json'])), []);
  t.equal((await http(base, 'POST', '/auth/refresh', { json: { refresh_token: second.body.refresh_token } })).status, 401);
  t.equal((await authctl(['sessions', 'revoke', '00000000-0000-4000-8000-000000000000'])).code, 3);
  t.equal((await authctl(['sessions', 'revoke', list[0].id, '--user', a.email])).code, 2, 'both forms at once');
});

t.test('user export and delete (GDPR)', async (t) => {
  const a = await registerAndLogin(base);
  const exp = await authctl(['user', 'export', a.email]);
  t.equal(exp.code, 0);
  const data = parseJson(exp);
  t.equal(data.user.email, a.email);
  t.equal(data.user.has_password, true);
  t.equal(data.sessions.length, 1);
  t.notMatch(exp.stdout, /\$2[aby]\$/, 'no password hash in the export');
  if (data.audit_events !== undefined) t.ok(data.audit_events.some((e: any) => e.action === 'auth.register'));

  const noTty = await authctl(['user', 'delete', a.email]);
  t.equal(noTty.code, 2, 'without a terminal --yes is required');
  t.match(noTty.stderr, /--yes/);
  t.equal(parseJson(await authctl(['user', 'show', a.email, '--json'])).id, a.userId, 'still there');

  const del = await authctl(['user', 'delete', a.email, '--yes']);
  t.equal(del.code, 0, del.stderr);
  t.equal((await authctl(['user', 'show', a.email])).code, 3);
  t.equal((await authctl(['user', 'show', a.userId])).code, 3);
  t.equal((await http(base, 'POST', '/auth/login', { json: { email: a.email, password: PASSWORD } })).status, 401);
  t.equal((await http(base, 'POST', '/auth/refresh', { json: { refresh_token: a.refresh } })).status, 401, 'refresh tokens are gone');
  // The row stays (audit rows point at its id) but holds no personal data.
  const core = testApp.app.context.core;
  const erased = await core.repos.users.findByEmailAnyTenant(a.email);
  t.same(erased, []);
  const again = await http(base, 'POST', '/auth/register', { json: { email: a.email, username: 'reborn', password: PASSWORD } });
  t.equal(again.status, 201, 'the email is free again');
});

t.test('user reset-password --print shows a working link', async (t) => {
  const a = await registerAndLogin(base);
  const r = await authctl(['user', 'reset-password', a.email, '--print', '--json']);
  if (r.code !== 0 && /not available/.test(r.stderr)) {
    t.fail('password-reset service not wired in this build');
    return;
  }
  t.equal(r.code, 0, r.stderr);
  const out = parseJson(r);
  t.match(out.link, /^http:\/\/authgate\.test\//);
  const token = new URL(out.link).searchParams.get('token');
  t.ok(token);
  const confirm = await http(base, 'POST', '/auth/password-reset/confirm', { json: { token, new_password: 'a brand new passphrase 42' } });
  t.equal(confirm.status, 204);
  t.equal((await http(base, 'POST', '/auth/login', { json: { email: a.email, password: 'a brand new passphrase 42' } })).status, 200);
});

t.test('tenants: create, list, same email in two tenants, disable blocks login', async (t) => {
  const slug = `acme${Date.now().toString(36)}`;
  const c = await authctl(['tenants', 'create', slug, '--name', 'Acme Corp', '--json']);
  t.equal(c.code, 0, c.stderr);
  t.match(parseJson(c), { slug, name: 'Acme Corp', disabled: false });
  t.equal((await authctl(['tenants', 'create', slug])).code, 1, 'duplicate slug');
  t.equal((await authctl(['tenants', 'create', 'Bad_Slug'])).code, 2);
  const list = parseJson<any[]>(await authctl(['tenants', 'list', '--json']));
  t.same(list.map((x) => x.slug).sort(), ['default', slug].sort());

  const email = uniqueEmail('twin');
  const inDefault = await registerAndLogin(base, { email });
  const inAcme = await registerAndLogin(base, { email, tenant: slug, username: 'twinacme' });
  t.not(inDefault.userId, inAcme.userId, 'two accounts');
  const ambiguous = await authctl(['user', 'show', email]);
  t.equal(ambiguous.code, 2);
  t.match(ambiguous.stderr, slug);
  t.match(ambiguous.stderr, /default/);
  t.equal(parseJson(await authctl(['user', 'show', email, '--tenant', slug, '--json'])).id, inAcme.userId);
  t.same(parseJson<any[]>(await authctl(['user', 'list', '--tenant', slug, '--json'])).map((u) => u.id), [inAcme.userId]);

  const d = await authctl(['tenants', 'disable', slug, '--json']);
  t.equal(d.code, 0);
  t.equal(parseJson(d).disabled, true);
  // The server caches tenants for a few seconds and hears of the disable through the revocation bus
  // (database poll here). Probe with registrations — they read the same tenant cache but, unlike a login,
  // create no session — until the server refuses the tenant; bounded, and the delay is reported.
  const disabledAt = Date.now();
  let refused = false;
  for (let i = 0; i < 100 && !refused; i++) {
    const probe = await http(base, 'POST', '/auth/register', { json: { email: uniqueEmail('probe'), username: `probe${i}x${Date.now().toString(36)}`, password: PASSWORD, tenant: slug } });
    refused = probe.status === 400;
    if (!refused) await new Promise((res) => setTimeout(res, 50));
  }
  t.ok(refused, 'the server refuses the disabled tenant');
  t.comment(`server refused the disabled tenant ${Date.now() - disabledAt} ms after authctl exited`);
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD, tenant: slug } })).status, 401, 'tenant login blocked');
  let tokenStatus = 200;
  for (let i = 0; i < 100 && tokenStatus === 200; i++) {
    tokenStatus = (await http(base, 'GET', '/auth/me', { token: inAcme.access })).status;
    if (tokenStatus === 200) await new Promise((res) => setTimeout(res, 50));
  }
  t.equal(tokenStatus, 401, 'live tenant token rejected');
  t.comment(`tenant token rejected ${Date.now() - disabledAt} ms after authctl exited`);
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD } })).status, 200, 'the other tenant is unaffected');
  t.same(parseJson<any[]>(await authctl(['sessions', 'list', '--tenant', slug, '--active', '--json'])), [], 'tenant sessions revoked');
  t.equal((await authctl(['tenants', 'disable', 'no-such-tenant'])).code, 3);
});

t.test('keys list/rotate/retire', async (t) => {
  const before = parseJson<any[]>(await authctl(['keys', 'list', '--json']));
  const active = before.find((k) => k.alg === 'EdDSA' && k.active);
  t.ok(active);
  const rot = await authctl(['keys', 'rotate', '--json']);
  t.equal(rot.code, 0, rot.stderr);
  const { kid } = parseJson(rot);
  const after = parseJson<any[]>(await authctl(['keys', 'list', '--json']));
  t.equal(after.find((k) => k.kid === kid).active, true);
  t.equal(after.find((k) => k.kid === active.kid).active, false, 'previous key is verify-only');
  const refused = await authctl(['keys', 'retire', kid]);
  t.equal(refused.code, 1, 'the active key cannot be retired');
  t.equal((await authctl(['keys', 'retire', active.kid])).code, 0);
  t.equal((await authctl(['keys', 'retire', 'no-such-kid'])).code, 3);
  t.equal((await authctl(['keys', 'rotate', '--alg', 'HS256'])).code, 2);
});

t.test('policies check/explain/test', async (t) => {
  const ok = await authctl(['policies', 'check']);
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
  const shadowed = join(dir, 'shadowed.yaml');
  writeFileSync(
    shadowed,
    `version: 1
upstreams: { app: "http://127.0.0.1:1" }
routes:
  - name: everything
    match: { path: "/api/**" }
    upstream: app
    access: authenticated
  - name: orders-hidden
    match: { methods: [GET], path: "/api/orders/**" }
    upstream: app
    access: public
`,
  );
  const bad = await authctl(['policies', 'check', shadowed]);
  t.equal(bad.code, 1);
  t.match(bad.stdout, /orders-hidden/);
  const badJson = await authctl(['policies', 'check', shadowed, '--json']);
  t.equal(badJson.code, 1);
  t.ok(parseJson(badJson).problems.some((p: any) => p.route === 'orders-hidden' && p.severity === 'error'));
  const invalid = join(dir, 'invalid.yaml');
  writeFileSync(invalid, 'version: 1\nroutes: [ {');
  t.equal((await authctl(['policies', 'check', invalid])).code, 1);
  t.equal((await authctl(['policies', 'check', join(dir, 'missing.yaml')])).code, 1);

  const allow = await authctl(['policies', 'explain', 'GET', '/api/orders/./7', '--role', 'viewer', '--json']);
  t.equal(allow.code, 0);
  t.same(parseJson(allow), { path: '/api/orders/7', route: 'orders-read', decision: 'allow', reason: parseJson(allow).reason });
  t.same(Object.keys(parseJson(allow)).sort(), ['decision', 'path', 'reason', 'route']);
  const deny = await authctl(['policies', 'explain', 'POST', '/api/orders/7', '--role', 'viewer', '--json']);
  t.equal(deny.code, 0, 'exit 0 on deny too');
  t.match(parseJson(deny), { route: 'orders-write', decision: 'deny' });
  const text = await authctl(['policies', 'explain', 'GET', '/t/acme/x', '--tenant', 'beta']);
  t.match(text.stdout, /route\s+tenant-data/);
  t.match(text.stdout, /decision\s+deny/);

  const cases = join(dir, 'cases.yaml');
  writeFileSync(cases, `- request: GET /api/orders/1\n  as: { roles: [viewer] }\n  expect: allow\n- request: GET /health\n  expect: allow\n`);
  const pass = await authctl(['policies', 'test', cases]);
  t.equal(pass.code, 0, pass.stdout + pass.stderr);
  writeFileSync(cases, `- request: DELETE /api/orders/1\n  as: { roles: [viewer] }\n  expect: allow\n`);
  const fail = await authctl(['policies', 'test', cases, '--json']);
  t.equal(fail.code, 1);
  t.equal(parseJson(fail).summary.failed, 1);
});

t.test('bad configuration exits 78', async (t) => {
  t.equal((await authctl(['user', 'list', '--config', join(dir, 'nope.yaml')])).code, 78);
  t.equal((await runAuthctl(['user', 'list', '--database-url', 'mysql://x'])).code, 78);
  const brokenPolicy = join(dir, 'broken-roles.yaml');
  writeFileSync(brokenPolicy, 'version: 1\nroles: [\n');
  const r = await authctl(['user', 'set-role', 'nobody@example.com', 'admin'], { env: { POLICIES_FILE: brokenPolicy } });
  t.equal(r.code, 3, 'the user lookup fails first');
});
