// Delivery failures and the embedded outbox (issue 11): with the SMTP server down the request is still
// 202, the failure is logged without the link, and the bounded in-process retry delivers once the
// server is up; registration is not blocked. Without SMTP_URL every message is an .eml file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { http, registerAndLogin, PASSWORD } from '../helpers/app.js';
import { startEmailApp } from './email-test-app.js';
import { decodeQuotedPrintable, extractLink, freePort, parseHeaders, startSmtpServer, tokenOf } from './smtp-harness.js';

t.test('SMTP down: 202, failure logged without the link, retry delivers when the server is back', async (t) => {
  const port = await freePort();
  const e = await startEmailApp({ smtp: null, smtpUrl: `smtp://127.0.0.1:${port}`, config: { mail: { retry_attempts: 6, retry_backoff: '200ms' } } });
  t.teardown(() => e.close());

  const user = await registerAndLogin(e.url); // registration must not fail or wait on SMTP
  const res = await http(e.url, 'POST', '/auth/password-reset/request', { json: { email: user.email } });
  t.equal(res.status, 202);
  await e.idle();

  const failures = e.logs.filter((l) => l.msg === 'mail delivery failed; will retry');
  t.ok(failures.some((l) => l.purpose === 'reset' && l.user === user.userId && l.attempt === 1), 'reset failure logged with purpose, user, attempt');
  t.ok(failures.some((l) => l.purpose === 'verify'), 'registration mail failure logged too');
  t.ok(e.core.mail.pendingRetries() >= 2, 'retries pending');
  t.notMatch(JSON.stringify(e.logs), /token=/, 'no link in the logs');

  const smtp = await startSmtpServer(port);
  t.teardown(() => smtp.close());
  const mails = await smtp.waitFor(2);
  const reset = mails.find((m) => /^Reset/.test(m.headers.get('subject') ?? ''));
  t.ok(reset, 'reset mail delivered by the retry');
  t.ok(mails.some((m) => /^Verify/.test(m.headers.get('subject') ?? '')), 'verification mail delivered by the retry');
  await e.core.mail.idle();
  t.ok(e.logs.some((l) => l.msg === 'mail sent after retry'), 'success after retry logged');

  const confirm = await http(e.url, 'POST', '/auth/password-reset/confirm', { json: { token: tokenOf(extractLink(reset!)), new_password: 'after the outage 2024!' } });
  t.equal(confirm.status, 204, 'the retried link works');
  t.equal((await http(e.url, 'POST', '/auth/login', { json: { email: user.email, password: PASSWORD } })).status, 401);
});

t.test('SMTP down for good: bounded attempts, then a clear "giving up" log', async (t) => {
  const port = await freePort();
  const e = await startEmailApp({ smtp: null, smtpUrl: `smtp://127.0.0.1:${port}`, config: { mail: { retry_attempts: 2, retry_backoff: '50ms' } } });
  t.teardown(() => e.close());
  const user = await registerAndLogin(e.url);
  await e.idle();
  const gaveUp = () => e.logs.filter((l) => l.msg?.toString().startsWith('mail delivery failed; giving up'));
  // Wait for the second (last) attempt: bounded by the tap timeout, not a timing threshold.
  while (gaveUp().length === 0) await new Promise((r) => setTimeout(r, 25));
  const last = gaveUp()[0]!;
  t.equal(last.attempt, 2);
  t.equal(last.user, user.userId);
  t.equal(last.level, 'error');
  t.equal(e.core.mail.pendingRetries(), 0, 'nothing left pending');
});

t.test('outbox default: no SMTP_URL writes an .eml file per message and logs the file', async (t) => {
  const e = await startEmailApp({ smtp: null });
  t.teardown(() => e.close());
  const outbox = e.app.config.mail.outbox_dir;
  const user = await registerAndLogin(e.url);
  await http(e.url, 'POST', '/auth/password-reset/request', { json: { email: user.email } });
  await e.idle();
  const files = readdirSync(outbox).filter((f) => f.endsWith('.eml')).sort();
  t.equal(files.length, 2, 'verification + reset');
  const mails = files.map((f) => ({ file: join(outbox, f), raw: readFileSync(join(outbox, f), 'utf8') }));
  const reset = mails.find((m) => /^Subject: Reset/m.test(m.raw))!;
  t.ok(reset, 'reset mail in the outbox');
  t.equal(parseHeaders(reset.raw).get('to'), user.email);
  t.equal(statSync(reset.file).mode & 0o077, 0, 'outbox file readable by the owner only');
  const written = e.logs.filter((l) => l.msg === 'mail written to the outbox (no SMTP_URL configured)');
  t.equal(written.length, 2);
  t.ok(written.some((l) => l.file === reset.file), 'log names the file');
  const token = tokenOf(extractLink({ decoded: decodeQuotedPrintable(reset.raw) }));
  t.notOk(JSON.stringify(e.logs).includes(token), 'token not logged');
  const res = await http(e.url, 'POST', '/auth/password-reset/confirm', { json: { token, new_password: 'from the outbox 123' } });
  t.equal(res.status, 204, 'outbox link completes the reset');
});
