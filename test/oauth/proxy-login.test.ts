// Browser login at the proxy over HTTP: a `login: redirect` route sends HTML navigations to the login page
// and back, API clients still get 401; the session cookie authenticates (never reaching the upstream), is
// re-minted through refresh rotation when its JWT expires, and dies with the session (revocation bus).
import t from 'tap';
import { ManualClock } from '../../core/clock.js';
import { http, registerAndLogin } from '../helpers/app.js';
import { CookieJar, send, startOidcApp, submitLogin } from './oidc-harness.js';

const clock = new ManualClock();

t.test('login: redirect route', async (t) => {
  const app = await startOidcApp({ clock });
  t.teardown(() => app.close());
  const base = app.url;
  const user = await registerAndLogin(base);
  const jar = new CookieJar();

  const api = await send(`${base}/app/page?x=1`, jar, { headers: { accept: 'application/json' } });
  t.equal(api.status, 401, 'API client: 401 problem+json');
  t.match(String(api.headers['content-type']), /problem\+json/);
  const post = await send(`${base}/app/page`, jar, { method: 'POST', headers: { accept: 'text/html' } });
  t.equal(post.status, 401, 'non-GET navigations are not redirected');
  const other = await send(`${base}/api/page`, jar);
  t.equal(other.status, 401, 'routes without login: redirect answer 401 to browsers too');

  const nav = await send(`${base}/app/page?x=1`, jar);
  t.equal(nav.status, 302, 'browser: redirect to the login page');
  const loginUrl = new URL(nav.location!, base);
  t.equal(loginUrl.pathname, '/oauth2/login');
  t.equal(loginUrl.searchParams.get('return_to'), '/app/page?x=1');
  t.equal(app.upstream.received.length, 0, 'nothing denied reached the upstream');

  const login = await submitLogin(base, nav.location!, jar, user.email, user.password);
  t.equal(login.status, 303);
  t.equal(login.location, '/app/page?x=1', 'back to the original URL');
  const setCookie = String(login.headers['set-cookie']);
  t.match(setCookie, /authgate_session=/);
  t.match(setCookie, /HttpOnly/);
  t.match(setCookie, /SameSite=Lax/);
  t.match(setCookie, /Path=\//);
  t.notMatch(setCookie, /Secure/, 'plain-http PUBLIC_URL: no Secure, no __Host- prefix');

  jar.cookies.set('app_pref', 'dark');
  const page = await send(`${base}${login.location}`, jar);
  t.equal(page.status, 200);
  const seen = app.upstream.received.at(-1)!;
  t.equal(seen.headers['x-auth-user-id'], user.userId, 'identity headers injected');
  t.equal(seen.headers['x-auth-email'], user.email);
  t.equal(seen.headers.cookie, 'app_pref=dark', "authgate's session cookie is not forwarded, the app's are");

  // An explicit (bad) bearer token is not overridden by the cookie.
  const bearer = await send(`${base}/app/page`, jar, { headers: { authorization: 'Bearer not.a.jwt' } });
  t.equal(bearer.status, 401);

  // The cookie is not a credential on bearer-only API routes (CSRF-free APIs).
  t.equal((await send(`${base}/api/page`, jar, { headers: { accept: 'application/json' } })).status, 401);

  // Past the access-token lifetime the JWT is re-minted through refresh rotation; the new cookie is sent.
  clock.advance(16 * 60_000);
  const before = jar.cookies.get('authgate_session');
  const renewed = await send(`${base}/app/again`, jar);
  t.equal(renewed.status, 200, 'expired JWT → refreshed transparently');
  t.match(String(renewed.headers['set-cookie']), /authgate_session=/);
  t.not(jar.cookies.get('authgate_session'), before, 'rotated');
  // A concurrent request still carrying the old cookie shares the refresh result (no false reuse alarm).
  const stale = new CookieJar();
  stale.cookies.set('authgate_session', before!);
  t.equal((await send(`${base}/app/stale`, stale)).status, 200, 'same-process refresh is shared');
  t.equal((await send(`${base}/app/after`, jar)).status, 200, 'session still alive');

  // Logging out everywhere revokes the session; the cookie stops working at once (revocation bus).
  const me = await http(base, 'POST', '/auth/login', { json: { email: user.email, password: user.password } });
  await http(base, 'POST', '/auth/logout-all', { token: me.body.access_token });
  const revoked = await send(`${base}/app/page`, jar);
  t.equal(revoked.status, 302, 'revoked session → back to the login page');
  t.match(String(revoked.headers['set-cookie']), /authgate_session=;.*Max-Age=0/, 'the dead cookie is cleared');
});

t.test('https PUBLIC_URL: __Host- cookie with Secure', async (t) => {
  const app = await startOidcApp({ config: { server: { public_url: 'https://auth.example.test' } } });
  t.teardown(() => app.close());
  const user = await registerAndLogin(app.url);
  const jar = new CookieJar();
  const res = await submitLogin(app.url, '/oauth2/login?return_to=%2Fapp%2F', jar, user.email, user.password, {});
  // The login POST's Origin check: none sent here (same as a same-origin form in old browsers).
  t.equal(res.status, 303);
  const cookie = String(res.headers['set-cookie']);
  t.match(cookie, /^__Host-authgate=/);
  t.match(cookie, /Secure/);
  t.match(cookie, /Path=\//);
  t.notMatch(cookie, /Domain=/i);
  const evil = await submitLogin(app.url, '/oauth2/login', new CookieJar(), user.email, user.password, {});
  t.equal(evil.status, 303);
  const crossSite = await send(`${app.url}/oauth2/login`, jar, { form: { email: user.email, password: user.password, return_to: '/', csrf_token: jar.cookies.get('__Host-authgate-csrf') ?? '' }, headers: { origin: 'https://evil.example' } });
  t.equal(crossSite.status, 403, 'a foreign Origin is refused even with the token');
});

t.test('sign-out form ends the browser session (CSRF-protected)', async (t) => {
  const app = await startOidcApp();
  t.teardown(() => app.close());
  const user = await registerAndLogin(app.url);
  const jar = new CookieJar();
  await submitLogin(app.url, '/oauth2/login?return_to=%2Fapp%2F', jar, user.email, user.password);
  t.equal((await send(`${app.url}/app/x`, jar)).status, 200);
  const page = await send(`${app.url}/oauth2/logout?return_to=%2Fapp%2Fbye`, jar);
  const token = /name="csrf_token" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  const forged = await send(`${app.url}/oauth2/logout`, jar, { form: { csrf_token: 'y'.repeat(43), return_to: '/' } });
  t.equal(forged.status, 403, 'no sign-out without the CSRF token');
  t.equal((await send(`${app.url}/app/x`, jar)).status, 200, 'still signed in');
  const out = await send(`${app.url}/oauth2/logout`, jar, { form: { csrf_token: token, return_to: '//evil.example' } });
  t.equal(out.status, 303);
  t.equal(out.location, '/', 'unsafe return URL replaced');
  t.notOk(jar.cookies.has('authgate_session'), 'cookie cleared');
  t.equal((await send(`${app.url}/app/x`, jar)).status, 302, 'back to the login page');
});
