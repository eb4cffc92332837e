// Hostile input in request bodies: JSON bombs (deep nesting, a 10 MB string), bytes that are not UTF-8,
// prototype-pollution keys, and emails that look alike (NFD vs NFC forms must be ONE account; a Cyrillic
// homoglyph must be a DIFFERENT account that never collides with the Latin one). Always 4xx, never 5xx.
import t from 'tap';
import { request } from 'undici';
import { http, loginWithRoles, PASSWORD, startTestApp } from '../helpers/app.js';

/** POST raw bytes; an early close by the server after it answered is fine, a 5xx or no answer is not. */
async function postRaw(base: string, path: string, body: Buffer | string, contentType = 'application/json') {
  try {
    const res = await request(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const text = await res.body.text();
    return { status: res.statusCode, text, code: /json/.test(String(res.headers['content-type'])) && text ? (JSON.parse(text).code as string) : undefined };
  } catch (err) {
    return { status: 0, text: (err as Error).message, code: undefined };
  }
}

t.test('hostile bodies', async (t) => {
  const app = await startTestApp();
  t.teardown(() => app.close());
  const base = app.url;

  t.test('JSON bombs and broken encodings are 4xx on every JSON endpoint', async (t) => {
    const bodies: Array<[string, Buffer | string, number[]]> = [
      ['100,000 nested arrays', '['.repeat(100_000) + ']'.repeat(100_000), [400]],
      ['100,000 nested objects', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), [400]],
      ['unterminated nesting', '{"email":' + '['.repeat(50_000), [400]],
      ['10 MB string', `{"email":"${'a'.repeat(10 * 1024 * 1024)}@example.com","password":"x"}`, [413]],
      ['invalid UTF-8 bytes', Buffer.concat([Buffer.from('{"email":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('@example.com","password":"x"}')]), [400]],
      ['overlong UTF-8 encoding of "/"', Buffer.concat([Buffer.from('{"email":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('@example.com","password":"x"}')]), [400]],
      ['UTF-16 body', Buffer.from('{"email":"a@example.com","password":"x"}', 'utf16le'), [400]],
      ['lone surrogate escape', '{"email":"\\ud800@example.com","password":"correct horse battery staple"}', [400, 401]],
      ['NUL in a string', '{"email":"a\\u0000@example.com","password":"correct horse battery staple"}', [400, 401]],
      ['NUL in the tenant', '{"email":"a@example.com","password":"correct horse battery staple","tenant":"de\\u0000fault"}', [400]],
      ['NUL in the password (bcrypt would stop reading at it)', '{"email":"a@example.com","password":"correct horse\\u0000 battery staple"}', [400]],
      ['NUL in a key', '{"email\\u0000":"a@example.com","password":"x"}', [400]],
      ['number where a string belongs', '{"email":1e309,"password":["x"]}', [400]],
      ['duplicate keys', '{"email":"a@example.com","email":"b@example.com","password":"x"}', [400, 401]],
      ['top-level array', '[{"email":"a@example.com"}]', [400]],
      ['empty body', '', [400]],
    ];
    const endpoints = ['/auth/register', '/auth/login', '/auth/refresh', '/auth/password-reset/request'];
    const before = app.upstream.received.length;
    for (const [name, body, allowed] of bodies) {
      for (const path of endpoints) {
        const big = name === '10 MB string';
        if (big && path !== '/auth/register') continue; // one 10 MB upload is enough
        const res = await postRaw(base, path, body);
        // /password-reset/request answers 202 to every well-formed request (enumeration resistance).
        const ok = allowed.includes(res.status) || (res.status >= 400 && res.status < 500) || (big && res.status === 0);
        t.ok(ok, `${name} → ${path}: ${res.status} ${res.code ?? ''}`);
        t.ok(res.status < 500, `${name} → ${path}: never 5xx`);
      }
    }
    t.equal(app.upstream.received.length, before, 'nothing forwarded');
    t.equal((await http(base, 'GET', '/healthz')).status, 200, 'still alive');
  });

  t.test('NUL and junk in paths and query strings that reach the database', async (t) => {
    const admin = await loginWithRoles(app, ['admin']);
    const probes: Array<[string, string]> = [
      ['DELETE', '/auth/sessions/abc%00def'],
      ['DELETE', '/auth/sessions/%27%20OR%201%3D1--'],
      ['GET', '/admin/users?q=a%00b'],
      ['GET', '/admin/users/%00'],
      ['GET', '/admin/users?limit=-1'],
      ['GET', '/admin/users?cursor=%00%ff'],
      ['GET', '/admin/sessions?user=%00'],
      ['GET', '/admin/audit?since=not-a-date'],
      ['GET', '/admin/audit?user=%00'],
      ['GET', '/admin/users/not-a-uuid'],
      ['POST', '/admin/users/not-a-uuid/disable'],
      ['DELETE', '/admin/sessions/not-a-uuid'],
      ['GET', '/admin/sessions?user=not-a-uuid'],
      ['GET', `/admin/users?q=${'a'.repeat(5000)}`],
    ];
    for (const [method, path] of probes) {
      const res = await http(base, method, path, { token: admin.access });
      t.ok(res.status >= 400 && res.status < 500, `${method} ${path}: 4xx (${res.status} ${res.body?.code ?? ''})`);
    }
    const form = await postRaw(base, '/oauth2/token', 'grant_type=client_credentials&client_id=a%00b&client_secret=x', 'application/x-www-form-urlencoded');
    t.ok(form.status >= 400 && form.status < 500, `form body with NUL: 4xx (${form.status} ${form.code ?? ''})`);
  });

  t.test('prototype-pollution and mass-assignment keys change nothing', async (t) => {
    const email = 'proto@example.com';
    const body = `{"email":"${email}","username":"protouser","password":"${PASSWORD}","__proto__":{"roles":["admin"],"disabled":false},"constructor":{"prototype":{"isAdmin":true}},"roles":["admin"],"role":"admin","id":"00000000-0000-0000-0000-000000000000"}`;
    const res = await postRaw(base, '/auth/register', body);
    t.ok(res.status === 201 || res.status === 400, `registered or refused (${res.status})`);
    if (res.status === 201) {
      const user = JSON.parse(res.text).user;
      t.same(user.roles, ['user'], 'role is the configured default');
      t.not(user.id, '00000000-0000-0000-0000-000000000000', 'id not client-chosen');
    }
    t.equal(({} as Record<string, unknown>).roles, undefined, 'Object.prototype not polluted');
    t.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype not polluted (constructor)');
  });

  t.test('email Unicode forms: NFD and NFC are one account', async (t) => {
    const nfc = 'ren\u00e9e@example.com';
    const nfd = 'rene\u0301e@example.com';
    t.not(nfc, nfd, 'the two strings differ byte-wise');
    const reg = await http(base, 'POST', '/auth/register', { json: { email: nfd, username: 'reneenfd', password: PASSWORD } });
    t.equal(reg.status, 201, 'NFD email registers');
    t.equal(reg.body.user.email, nfc.normalize('NFC'), 'stored in NFC');
    const dup = await http(base, 'POST', '/auth/register', { json: { email: nfc, username: 'reneenfc', password: PASSWORD } });
    t.equal(dup.status, 409, 'the NFC form is the same account (conflict), not a second one');
    const login = await http(base, 'POST', '/auth/login', { json: { email: nfc, password: PASSWORD } });
    t.equal(login.status, 200, 'logging in with the NFC form reaches the NFD-registered account');
    const upper = await http(base, 'POST', '/auth/login', { json: { email: 'REN\u00c9E@EXAMPLE.COM', password: PASSWORD } });
    t.equal(upper.status, 200, 'case-insensitive, Unicode-aware');
    const sub = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).sub as string;
    t.equal(sub(login.body.access_token), reg.body.user.id);
  });

  t.test('email homoglyphs: a Cyrillic "а" is a different account and never collides', async (t) => {
    const latin = 'paul@example.com';
    const cyrillic = 'p\u0430ul@example.com'; // U+0430 CYRILLIC SMALL LETTER A
    const a = await http(base, 'POST', '/auth/register', { json: { email: latin, username: 'paullatin', password: PASSWORD } });
    t.equal(a.status, 201, 'Latin address registers');
    const b = await http(base, 'POST', '/auth/register', { json: { email: cyrillic, username: 'paulcyr', password: 'another horse battery staple' } });
    t.ok(b.status === 201 || b.status === 400, `Cyrillic look-alike registers separately or is refused (${b.status}), never a conflict`);
    // The look-alike's password never opens the Latin account, and vice versa.
    const cross1 = await http(base, 'POST', '/auth/login', { json: { email: latin, password: 'another horse battery staple' } });
    t.equal(cross1.status, 401, 'the look-alike password does not open the Latin account');
    const latinLogin = await http(base, 'POST', '/auth/login', { json: { email: latin, password: PASSWORD } });
    t.equal(latinLogin.status, 200);
    if (b.status === 201) {
      t.not(b.body.user.id, a.body.user.id, 'a different user id');
      t.equal(b.body.user.email, cyrillic, 'stored as typed (no confusable folding)');
      const cross2 = await http(base, 'POST', '/auth/login', { json: { email: cyrillic, password: PASSWORD } });
      t.equal(cross2.status, 401, 'the Latin password does not open the look-alike account');
      const own = await http(base, 'POST', '/auth/login', { json: { email: cyrillic, password: 'another horse battery staple' } });
      t.equal(own.status, 200, 'the look-alike logs into its own account');
      const sub = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).sub as string;
      t.not(sub(own.body.access_token), sub(latinLogin.body.access_token), 'tokens name different users');
    }
  });
});
