// Account lockout under concurrency (30 wrong logins at once, LOGIN_MAX_FAILURES=5): at most 5 real bcrypt
// compares (overshoot 0), the lock holds the right password out until it expires, unlock clears it; and the
// login brute-force guard (slow, then block, per (account, IP) and per IP) with 429 + Retry-After.
import t from 'tap';
import type { AuditEvent } from '../../core/audit/audit-log.js';
import { ManualClock } from '../../core/clock.js';
import { http, PASSWORD, registerAndLogin, startTestApp, type TestApp } from '../helpers/app.js';

const WRONG = 'definitely the wrong one';

async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Records audit events and counts real password compares (not the dummy-hash burns). */
function instrument(app: TestApp) {
  const core = app.app.context.core;
  const events: AuditEvent[] = [];
  const record = core.audit.record.bind(core.audit);
  core.audit.record = async (e: AuditEvent) => {
    events.push(e);
    return record(e);
  };
  const counter = { compares: 0 };
  const verify = core.hasher.verify;
  core.hasher.verify = async (p, h) => {
    counter.compares++;
    return verify(p, h);
  };
  return { events, counter };
}

const login = (app: TestApp, email: string, password: string, headers: Record<string, string> = {}) =>
  http(app.url, 'POST', '/auth/login', { json: { email, password }, headers });

t.test('30 concurrent wrong logins: lock engaged with no overshoot; locked refuses the right password; expiry; unlock', async (t) => {
  // Lockout expiry is decided by the injected clock, so the test moves time instead of sleeping.
  const clock = new ManualClock();
  const app = await startTestApp({
    clock,
    config: {
      security: { login_max_failures: 5, lockout_duration: '15m', login_slow_after: 1000, login_account_ip_max_failures: 1000, rate_limit_auth_points: 0 },
    },
  });
  t.teardown(() => app.close());
  const user = await registerAndLogin(app.url);
  const { events, counter } = instrument(app);

  const answers = await Promise.all(Array.from({ length: 30 }, () => login(app, user.email, WRONG)));
  // Every answer is the uniform 401 (audit appends from one process are queued, so SQLite keeps up too).
  const codes = answers.map((a) => a.body.code as string);
  t.ok(codes.every((c) => c === 'ERR_INVALID_CREDENTIALS'), 'every wrong-password answer is the uniform 401');
  t.equal(counter.compares, 5, 'exactly LOGIN_MAX_FAILURES real bcrypt compares: overshoot 0');
  const lockouts = events.filter((e) => e.action === 'auth.lockout');
  t.equal(lockouts.length, 1, 'one auth.lockout audit event');
  t.equal(lockouts[0]?.target, user.userId);

  // Locked: the right password gets the same 401 as a wrong one (nothing tells them apart).
  const right = await login(app, user.email, PASSWORD);
  const wrong = await login(app, user.email, WRONG);
  t.equal(right.status, 401, 'correct password refused while locked');
  const { request_id: _a, ...rightBody } = right.body;
  const { request_id: _b, ...wrongBody } = wrong.body;
  t.same(rightBody, wrongBody, 'same body for right and wrong password while locked');
  t.equal(counter.compares, 5, 'no real compare while locked');

  // Still locked just before LOCKOUT_DURATION ends; accepted after.
  clock.advance(15 * 60_000 - 5_000);
  t.equal((await login(app, user.email, PASSWORD)).status, 401, 'still locked before the lockout ends');
  clock.advance(10_000);
  t.equal((await login(app, user.email, PASSWORD)).status, 200, 'correct password accepted after LOCKOUT_DURATION');
  const core = app.app.context.core;
  const tenant = await core.tenants.resolve(undefined);
  t.equal((await core.repos.users.findById(tenant.id, user.userId))?.failedLoginCount, 0, 'success reset the counter');

  // Lock again, then unlock clears it at once and is audited.
  for (let i = 0; i < 5; i++) await login(app, user.email, WRONG);
  t.equal((await login(app, user.email, PASSWORD)).status, 401, 'locked again');
  t.equal(await core.lockout.unlock(tenant.id, user.userId, 'admin-test'), true);
  t.equal((await login(app, user.email, PASSWORD)).status, 200, 'unlock lets the right password in');
  const unlock = events.find((e) => e.action === 'auth.unlock');
  t.equal(unlock?.actor, 'admin-test');
  t.equal(unlock?.target, user.userId);
  t.equal(await core.lockout.unlock(tenant.id, '00000000-0000-4000-8000-000000000000', 'admin-test'), false, 'unknown user');
});

t.test('brute-force guard: growing waits after consecutive failures, success resets them', async (t) => {
  const app = await startTestApp({ config: { security: { login_max_failures: 100, login_slow_after: 3, rate_limit_auth_points: 0 } } });
  t.teardown(() => app.close());
  const user = await registerAndLogin(app.url);
  for (let i = 0; i < 3; i++) t.equal((await login(app, user.email, WRONG)).status, 401);
  const slowed = await login(app, user.email, PASSWORD);
  t.equal(slowed.status, 429, 'after 3 consecutive failures the next attempt must wait');
  t.equal(slowed.body.code, 'ERR_RATE_LIMITED');
  t.ok(Number(slowed.headers['retry-after']) >= 1, 'Retry-After');
  await until('the wait to pass', async () => (await login(app, user.email, PASSWORD)).status === 200);
  t.equal((await login(app, user.email, WRONG)).status, 401, 'success cleared the consecutive counter: a wrong password is a plain 401 again');
});

t.test('brute-force guard: block per (account, IP), other IPs unaffected, unlock clears it; per-IP daily failures', async (t) => {
  const app = await startTestApp({
    config: {
      server: { trusted_proxies: ['127.0.0.1/32'] },
      security: { login_max_failures: 100, login_slow_after: 1000, login_account_ip_max_failures: 4, login_ip_max_failures: 8, rate_limit_auth_points: 0 },
    },
  });
  t.teardown(() => app.close());
  const user = await registerAndLogin(app.url);
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  for (let i = 0; i < 4; i++) t.equal((await login(app, user.email, WRONG, from('203.0.113.1'))).status, 401);
  const blocked = await login(app, user.email, PASSWORD, from('203.0.113.1'));
  t.equal(blocked.status, 429, 'blocked after 4 consecutive failures from this IP');
  t.ok(Number(blocked.headers['retry-after']) > 60, 'a long block (1 h)');
  t.equal((await login(app, user.email, PASSWORD, from('203.0.113.2'))).status, 200, 'the account still works from another IP');
  for (let i = 0; i < 4; i++) await login(app, user.email, WRONG, from('203.0.113.3'));
  t.equal((await login(app, user.email, PASSWORD, from('203.0.113.3'))).status, 429);
  const core = app.app.context.core;
  const tenant = await core.tenants.resolve(undefined);
  await core.lockout.unlock(tenant.id, user.userId, 'admin-test');
  t.equal((await login(app, user.email, PASSWORD, from('203.0.113.3'))).status, 200, 'unlock cleared the (account, IP) block');

  // Per IP per day, across accounts: 8 failures in total from one address (4 + 4 above were other IPs).
  for (let i = 0; i < 8; i++) t.equal((await login(app, `nobody${i}@example.com`, WRONG, from('198.51.100.5'))).status, 401);
  t.equal((await login(app, user.email, PASSWORD, from('198.51.100.5'))).status, 429, 'IP blocked for the day after 8 failures');
  t.equal((await login(app, user.email, PASSWORD, from('198.51.100.6'))).status, 200);
});
