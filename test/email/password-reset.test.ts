// Password reset over real SMTP (issue 11): delivery headers, completing the reset from the mailed link,
// single use, expiry, sessions revoked, no mail for unknown accounts, links immune to Host /
// X-Forwarded-Host, duplicate/array emails refused, newer request supersedes older, per-account limit.
import t from 'tap';
import { http, registerAndLogin, uniqueEmail, PASSWORD } from '../helpers/app.js';
import { MAIL_FROM, startEmailApp, type EmailTestApp } from './email-test-app.js';
import { extractLink, extractLinks, tokenOf } from './smtp-harness.js';

const NEW_PASSWORD = 'a brand new passphrase 42';

const isReset = (m: { headers: Map<string, string> }) => /^Reset your/.test(m.headers.get('subject') ?? '');
const resetMailsTo = (e: EmailTestApp, email: string) => e.smtp!.messages.filter((m) => isReset(m) && m.headers.get('to') === email);

async function requestReset(e: EmailTestApp, email: string, extra: { headers?: Record<string, string>; tenant?: string } = {}) {
  const res = await http(e.url, 'POST', '/auth/password-reset/request', {
    json: { email, ...(extra.tenant ? { tenant: extra.tenant } : {}) },
    ...(extra.headers ? { headers: extra.headers } : {}),
  });
  await e.idle();
  return res;
}

t.test('password reset over SMTP', async (t) => {
  const e = await startEmailApp({ config: { server: { trusted_proxies: ['127.0.0.1/32'] } } });
  t.teardown(() => e.close());
  const smtp = e.smtp!;

  t.test('the mail arrives with the right To/From/Subject and one link built from PUBLIC_URL', async (t) => {
    const user = await registerAndLogin(e.url);
    const res = await requestReset(e, user.email);
    t.equal(res.status, 202);
    const [mail, ...more] = resetMailsTo(e, user.email);
    t.ok(mail, 'reset mail received');
    t.equal(more.length, 0, 'exactly one');
    t.equal(mail!.headers.get('to'), user.email);
    t.equal(mail!.headers.get('from'), MAIL_FROM);
    t.equal(mail!.headers.get('subject'), 'Reset your authgate password');
    t.same(mail!.envelopeTo, [user.email]);
    t.match(mail!.decoded, /expires in 30 minutes/);
    const links = extractLinks(mail!);
    t.ok(links.length >= 2, 'link in the text and the HTML part');
    const link = extractLink(mail!);
    t.ok(link.startsWith('http://authgate.test/reset-password?token='), link.replace(/token=.*/, 'token=…'));
    t.ok(tokenOf(link).length >= 43, '≥ 256-bit token');
  });

  t.test('reset from the mailed link: password changed, token single-use, sessions revoked', async (t) => {
    const user = await registerAndLogin(e.url);
    const second = await http(e.url, 'POST', '/auth/login', { json: { email: user.email, password: PASSWORD } });
    t.equal(second.status, 200);
    await requestReset(e, user.email.toUpperCase()); // normalised: same account
    const mails = resetMailsTo(e, user.email);
    t.equal(mails.length, 1, 'upper-cased request reached the same account');
    const token = tokenOf(extractLink(mails[0]!));

    const weak = await http(e.url, 'POST', '/auth/password-reset/confirm', { json: { token, new_password: 'short' } });
    t.equal(weak.status, 400);
    t.equal(weak.body.code, 'ERR_VALIDATION', 'password policy applies');

    const ok = await http(e.url, 'POST', '/auth/password-reset/confirm', { json: { token, new_password: NEW_PASSWORD } });
    t.equal(ok.status, 204, 'policy failure did not burn the token');

    const again = await http(e.url, 'POST', '/auth/password-reset/confirm', { json: { token, new_password: 'yet another passphrase 7' } });
    t.equal(again.status, 400);
    t.equal(again.body.code, 'ERR_RESET_TOKEN_INVALID', 'second use refused');

    const oldLogin = await http(e.url, 'POST', '/auth/login', { json: { email: user.email, password: PASSWORD } });
    t.equal(oldLogin.status, 401, 'old password refused');
    t.equal(oldLogin.body.code, 'ERR_INVALID_CREDENTIALS');
    const newLogin = await http(e.url, 'POST', '/auth/login', { json: { email: user.email, password: NEW_PASSWORD } });
    t.equal(newLogin.status, 200, 'new password works');

    for (const refresh of [user.refresh, second.body.refresh_token as string]) {
      const r = await http(e.url, 'POST', '/auth/refresh', { json: { refresh_token: refresh } });
      t.equal(r.status, 401, 'old refresh token refused');
    }
    const me = await http(e.url, 'GET', '/auth/me', { token: user.access });
    t.equal(me.status, 401, 'old access token revoked');
    t.equal(me.body.code, 'ERR_TOKEN_REVOKED');
    const meNew = await http(e.url, 'GET', '/auth/me', { token: newLogin.body.access_token as string });
    t.equal(meNew.status, 200);
    t.equal(meNew.body.user.email_verified, true, 'following the reset link proves the mailbox');
  });

  t.test('token refused after expiry (injected clock)', async (t) => {
    const user = await registerAndLogin(e.url);
    await requestReset(e, user.email);
    const [mail] = resetMailsTo(e, user.email);
    if (!mail) throw new Error('no reset mail');
    const token = tokenOf(extractLink(mail));
    e.clock.advance(30 * 60_000 + 1000);
    try {
      const res = await http(e.url, 'POST', '/auth/password-reset/confirm', { json: { token, new_password: NEW_PASSWORD } });
      t.equal(res.status, 400);
      t.equal(res.body.code, 'ERR_RESET_TOKEN_INVALID');
    } finally {
      e.clock.advance(-(30 * 60_000 + 1000));
    }
    const login = await http(e.url, 'POST', '/auth/login', { json: { email: user.email, password: PASSWORD } });
    t.equal(login.status, 200, 'password unchanged');
  });

  t.test('a newer request invalidates the older link', async (t) => {
    const user = await registerAndLogin(e.url);
    await requestReset(e, user.email);
    await requestReset(e, user.email);
    const mails = resetMailsTo(e, user.email);
    t.equal(mails.length, 2);
    const [older, newer] = mails.map((m) => tokenOf(extractLink(m)));
    t.not(older, newer);
    const stale = await http(e.url, 'POST', '/auth/password-reset/confirm', { json: { token: older, new_password: NEW_PASSWORD } });
    t.equal(stale.body.code, 'ERR_RESET_TOKEN_INVALID');
    const fresh = await http(e.url, 'POST', '/auth/password-reset/confirm', { json: { token: newer, new_password: NEW_PASSWORD } });
    t.equal(fresh.status, 204);
  });

  t.test('unknown email, unknown tenant: the same 202 body and no mail', async (t) => {
    const user = await registerAndLogin(e.url);
    const known = await requestReset(e, user.email);
    const before = smtp.messages.length;
    const unknown = await requestReset(e, uniqueEmail('nobody'));
    const otherTenant = await requestReset(e, user.email, { tenant: 'no-such-tenant' });
    for (const r of [unknown, otherTenant]) {
      t.equal(r.status, 202);
      t.equal(r.text, known.text, 'byte-identical body');
      t.equal(r.headers['cache-control'], known.headers['cache-control']);
    }
    t.equal(smtp.messages.length, before, 'no mail sent');
  });

  t.test('Host and X-Forwarded-Host do not change the link (CVE-2023-39655 class)', async (t) => {
    const user = await registerAndLogin(e.url);
    await requestReset(e, user.email, { headers: { host: 'evil.example' } });
    await requestReset(e, user.email, { headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', forwarded: 'host=evil.example' } });
    const mails = resetMailsTo(e, user.email);
    t.equal(mails.length, 2);
    for (const m of mails) {
      t.notMatch(m.raw, /evil\.example/);
      t.ok(extractLink(m).startsWith('http://authgate.test/reset-password?token='));
    }
  });

  t.test('two emails, an array or a non-string email → 400 and no mail (CVE-2023-7028 class)', async (t) => {
    const victim = await registerAndLogin(e.url);
    await e.idle();
    const before = smtp.messages.length;
    const cases: Array<[string, string, string]> = [
      ['duplicate key', `{"email":"${victim.email}","email":"attacker@evil.example"}`, 'ERR_DUPLICATE_KEY'],
      ['escaped duplicate key', `{"email":"${victim.email}","em\\u0061il":"attacker@evil.example"}`, 'ERR_DUPLICATE_KEY'],
      ['array', JSON.stringify({ email: [victim.email, 'attacker@evil.example'] }), 'ERR_VALIDATION'],
      ['object', JSON.stringify({ email: { address: victim.email } }), 'ERR_VALIDATION'],
      ['number', JSON.stringify({ email: 42 }), 'ERR_VALIDATION'],
      ['not an email', JSON.stringify({ email: 'victim' }), 'ERR_VALIDATION'],
      ['extra key', JSON.stringify({ email: victim.email, cc: 'attacker@evil.example' }), 'ERR_VALIDATION'],
    ];
    for (const [name, body, code] of cases) {
      const res = await http(e.url, 'POST', '/auth/password-reset/request', { body, headers: { 'content-type': 'application/json' } });
      t.equal(res.status, 400, name);
      t.equal(res.body.code, code, name);
    }
    await e.idle();
    t.equal(smtp.messages.length, before, 'nothing sent');
  });

  t.test('confirm input errors are 4xx', async (t) => {
    const cases: Array<[unknown, string]> = [
      [{ token: 'x'.repeat(43), new_password: NEW_PASSWORD }, 'ERR_RESET_TOKEN_INVALID'],
      [{ token: ['a'], new_password: NEW_PASSWORD }, 'ERR_VALIDATION'],
      [{ new_password: NEW_PASSWORD }, 'ERR_VALIDATION'],
      [{ token: 'x'.repeat(43) }, 'ERR_VALIDATION'],
    ];
    for (const [json, code] of cases) {
      const res = await http(e.url, 'POST', '/auth/password-reset/confirm', { json });
      t.equal(res.status, 400, JSON.stringify(json));
      t.equal(res.body.code, code);
    }
  });
});

t.test('per-account limit: 202 every time, at most N mails per hour', async (t) => {
  const e = await startEmailApp({ config: { mail: { max_per_account_per_hour: 2 } } });
  t.teardown(() => e.close());
  const smtp = e.smtp!;
  const user = await registerAndLogin(e.url);
  await e.idle();
  t.equal(resetMailsTo(e, user.email).length, 0);
  for (let i = 0; i < 4; i++) t.equal((await requestReset(e, user.email)).status, 202);
  t.equal(resetMailsTo(e, user.email).length, 2, 'only two mails');
  t.ok(smtp.messages.length >= 3, 'the verification mail at registration counts separately');
  t.ok(e.logs.some((l) => l.msg === 'per-account mail limit reached; not sending'), 'limit logged');
});

t.test('per-IP limit on the request endpoint answers 429', async (t) => {
  const e = await startEmailApp({ config: { mail: { request_ip_per_hour: 3 } } });
  t.teardown(() => e.close());
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await requestReset(e, uniqueEmail('ip'))).status);
  t.same(statuses, [202, 202, 202, 429]);
  const res = await http(e.url, 'POST', '/auth/password-reset/request', { json: { email: uniqueEmail('ip') } });
  t.equal(res.body.code, 'ERR_RATE_LIMITED');
  t.ok(res.headers['retry-after'], 'Retry-After');
});

t.test('the reset link is never logged', async (t) => {
  const e = await startEmailApp({ logLevel: 'trace' });
  t.teardown(() => e.close());
  const user = await registerAndLogin(e.url);
  await requestReset(e, user.email);
  const [mail] = resetMailsTo(e, user.email);
  if (!mail) throw new Error('no reset mail');
  const token = tokenOf(extractLink(mail));
  const logText = JSON.stringify(e.logs);
  t.ok(e.logs.some((l) => l.msg === 'mail sent' && l.purpose === 'reset'), 'delivery logged');
  t.notOk(logText.includes(token), 'token absent from the logs');
});
