// Every password rule with a rejecting and an accepting case (unit and over HTTP, 400 naming the rule),
// including multibyte passwords around bcrypt's 72-byte limit, and no reuse of the last 5 passwords.
import t from 'tap';
import { createPasswordPolicy } from '../../core/services/password-policy.js';
import { http, PASSWORD, registerAndLogin, startTestApp, uniqueEmail } from '../helpers/app.js';

const policy = createPasswordPolicy(12);
const ctx = { email: 'jane.doe@example.com', username: 'janedoe' };
const rulesOf = (password: string) => policy.check(password, ctx).map((e) => /\(rule: ([a-z_]+)\)/.exec(e.message)?.[1]);

t.test('each rule rejects and accepts', async (t) => {
  const cases: Array<[string, string, Array<string | undefined>]> = [
    ['min_length: 11 characters', 'Tr0ub4dor&3', ['min_length']],
    ['min_length: 12 characters', 'Tr0ub4dor&3x', []],
    ['min_length counts characters, not bytes: 11 × €', '€'.repeat(11), ['min_length']],
    ['max_bytes: 25 × € = 75 bytes', '€'.repeat(25), ['max_bytes']],
    ['max_bytes: 73 bytes (a + 24 × €)', `a${'€'.repeat(24)}`, ['max_bytes']],
    ['max_bytes: 24 × € = 72 bytes is accepted', '€'.repeat(24), []],
    ['max_bytes: 72 ASCII bytes accepted', 'q7!'.repeat(24), []],
    ['not_email: equal to the email', 'jane.doe@example.com', ['not_email']],
    ['not_email: contains the local part', 'xx-Jane.Doe-2024-zz', ['not_email']],
    ['not_username: contains the username', 'my JaneDoe password', ['not_username']],
    ['common_password: in the list', 'password1234', ['common_password']],
    ['common_password: padded common word', 'qwertyuiop12', ['common_password']],
    ['accepted: a passphrase', 'correct horse battery staple', []],
  ];
  for (const [name, password, want] of cases) t.same(rulesOf(password), want, name);
});

t.test('over HTTP: 400 naming the rule; a 72-byte multibyte password works end to end; no reuse of the last 5', async (t) => {
  const app = await startTestApp({ config: { security: { rate_limit_auth_points: 0 } } });
  t.teardown(() => app.close());
  const register = (password: string) => {
    const email = uniqueEmail('pw');
    return http(app.url, 'POST', '/auth/register', { json: { email, username: email.split('@')[0]!.replace(/[^a-z0-9]/gi, ''), password } });
  };
  for (const [password, rule] of [
    ['short', 'min_length'],
    ['€'.repeat(25), 'max_bytes'],
    [`a${'€'.repeat(24)}`, 'max_bytes'],
    ['password1234', 'common_password'],
  ] as const) {
    const r = await register(password);
    t.equal(r.status, 400, rule);
    t.equal(r.body.code, 'ERR_VALIDATION');
    t.ok(r.body.errors.some((e: { field: string; message: string }) => e.field === 'password' && e.message.includes(`rule: ${rule}`)), `names rule ${rule}`);
  }
  const email = uniqueEmail('same');
  const own = await http(app.url, 'POST', '/auth/register', { json: { email, username: 'someoneelse1', password: email } });
  t.equal(own.status, 400);
  t.match(JSON.stringify(own.body.errors), /rule: not_email/);

  const euro = '€'.repeat(24);
  const multibyte = await registerAndLogin(app.url, { password: euro });
  t.ok(multibyte.access, '72-byte multibyte password registers and logs in');
  t.equal((await http(app.url, 'POST', '/auth/login', { json: { email: multibyte.email, password: `${'€'.repeat(23)}x` } })).status, 401, 'and a different one does not');

  // History: registration + 5 changes; each of the last 5 is refused, the 6th-oldest is allowed again.
  const user = await registerAndLogin(app.url);
  const passwords = [PASSWORD, ...[1, 2, 3, 4, 5].map((i) => `stable passphrase number ${i}`)];
  const change = (current: string, next: string) =>
    http(app.url, 'POST', '/auth/password/change', { token: user.access, json: { current_password: current, new_password: next } });
  for (let i = 1; i < passwords.length; i++) t.equal((await change(passwords[i - 1]!, passwords[i]!)).status, 204, `change ${i}`);
  const current = passwords[5]!;
  for (const old of passwords.slice(1, 5)) {
    const r = await change(current, old);
    t.equal(r.status, 400, 'one of the last 5 is refused');
    t.match(JSON.stringify(r.body.errors), /rule: history/);
  }
  t.equal((await change(current, current)).status, 400, 'the current password is refused');
  t.equal((await change(current, PASSWORD)).status, 204, 'the 6th-oldest password is accepted again');
  t.equal((await http(app.url, 'POST', '/auth/login', { json: { email: user.email, password: PASSWORD } })).status, 200);
});
