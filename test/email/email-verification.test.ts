// Email verification over real SMTP (issue 11): mail at registration, confirm from the mailed link,
// single use and expiry, request by bearer or by email (202 always), and the REQUIRE_VERIFIED_EMAIL gate.
import t from 'tap';
import { http, uniqueEmail, PASSWORD } from '../helpers/app.js';
import { startEmailApp, type EmailTestApp } from './email-test-app.js';
import { extractLink, tokenOf } from './smtp-harness.js';

const isVerify = (m: { headers: Map<string, string> }) => /^Verify your email/.test(m.headers.get('subject') ?? '');
const verifyMailsTo = (e: EmailTestApp, email: string) => e.smtp!.messages.filter((m) => isVerify(m) && m.headers.get('to') === email);

async function register(e: EmailTestApp, email = uniqueEmail('v')) {
  const res = await http(e.url, 'POST', '/auth/register', { json: { email, username: email.split('@')[0]!.replace(/[^a-z0-9]/gi, ''), password: PASSWORD } });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${res.text}`);
  await e.idle();
  return { email, id: res.body.user.id as string };
}

const login = (e: EmailTestApp, email: string) => http(e.url, 'POST', '/auth/login', { json: { email, password: PASSWORD } });

t.test('REQUIRE_VERIFIED_EMAIL: login refused until the mailed link is followed', async (t) => {
  const e = await startEmailApp({ config: { security: { require_verified_email: true } } });
  t.teardown(() => e.close());
  const user = await register(e);

  const mails = verifyMailsTo(e, user.email);
  t.equal(mails.length, 1, 'verification mail sent at registration');
  t.equal(mails[0]!.headers.get('subject'), 'Verify your email address for authgate');
  t.match(mails[0]!.decoded, /expires in 24 hours/);
  const link = extractLink(mails[0]!);
  t.ok(link.startsWith('http://authgate.test/verify-email?token='));

  const blocked = await login(e, user.email);
  t.equal(blocked.status, 403);
  t.equal(blocked.body.code, 'ERR_EMAIL_NOT_VERIFIED');

  const ok = await http(e.url, 'POST', '/auth/verify-email', { json: { token: tokenOf(link) } });
  t.equal(ok.status, 204);
  const again = await http(e.url, 'POST', '/auth/verify-email', { json: { token: tokenOf(link) } });
  t.equal(again.status, 400, 'single use');
  t.equal(again.body.code, 'ERR_VERIFY_TOKEN_INVALID');

  const allowed = await login(e, user.email);
  t.equal(allowed.status, 200);
  const me = await http(e.url, 'GET', '/auth/me', { token: allowed.body.access_token as string });
  t.equal(me.body.user.email_verified, true);

  // A reset token is not a verification token (purpose is bound).
  const other = await register(e);
  await http(e.url, 'POST', '/auth/password-reset/request', { json: { email: other.email } });
  await e.idle();
  const reset = e.smtp!.messages.find((m) => m.headers.get('to') === other.email && /^Reset/.test(m.headers.get('subject') ?? ''))!;
  const cross = await http(e.url, 'POST', '/auth/verify-email', { json: { token: tokenOf(extractLink(reset)) } });
  t.equal(cross.body.code, 'ERR_VERIFY_TOKEN_INVALID', 'reset token refused for verification');
  t.equal((await login(e, other.email)).status, 403, 'still unverified');
});

t.test('verification requests: by email (202 always), by bearer; expiry; already verified gets nothing', async (t) => {
  const e = await startEmailApp();
  t.teardown(() => e.close());
  const user = await register(e);
  t.equal(verifyMailsTo(e, user.email).length, 1);

  const byEmail = await http(e.url, 'POST', '/auth/verify-email/request', { json: { email: user.email.toUpperCase() } });
  const unknown = await http(e.url, 'POST', '/auth/verify-email/request', { json: { email: uniqueEmail('ghost') } });
  await e.idle();
  t.equal(byEmail.status, 202);
  t.equal(unknown.status, 202);
  t.equal(unknown.text, byEmail.text, 'same body');
  t.equal(verifyMailsTo(e, user.email).length, 2, 'second mail by email request');

  const session = await login(e, user.email);
  t.equal(session.status, 200, 'unverified login allowed when the gate is off');
  const byBearer = await http(e.url, 'POST', '/auth/verify-email/request', { token: session.body.access_token as string });
  await e.idle();
  t.equal(byBearer.status, 202);
  const mails = verifyMailsTo(e, user.email);
  t.equal(mails.length, 3, 'third mail by bearer request');

  const badBearer = await http(e.url, 'POST', '/auth/verify-email/request', { token: 'not.a.jwt' });
  t.equal(badBearer.status, 401);
  const neither = await http(e.url, 'POST', '/auth/verify-email/request', {});
  t.equal(neither.status, 400);
  t.equal(neither.body.code, 'ERR_VALIDATION');
  const dup = await http(e.url, 'POST', '/auth/verify-email/request', { body: `{"email":"${user.email}","email":"x@evil.example"}`, headers: { 'content-type': 'application/json' } });
  t.equal(dup.body.code, 'ERR_DUPLICATE_KEY');

  // Verification tokens do not supersede each other; each expires after 24 h.
  const first = tokenOf(extractLink(mails[0]!));
  const last = tokenOf(extractLink(mails[2]!));
  e.clock.advance(24 * 3_600_000 + 1000);
  const expired = await http(e.url, 'POST', '/auth/verify-email', { json: { token: last } });
  t.equal(expired.body.code, 'ERR_VERIFY_TOKEN_INVALID', 'expired');
  e.clock.advance(-(24 * 3_600_000 + 1000));
  t.equal((await http(e.url, 'POST', '/auth/verify-email', { json: { token: first } })).status, 204, 'older link still valid');

  const count = e.smtp!.messages.length;
  await http(e.url, 'POST', '/auth/verify-email/request', { json: { email: user.email } });
  await e.idle();
  t.equal(e.smtp!.messages.length, count, 'verified account gets no further mail');
});
