// openid-client (a stock relying-party library) against authgate, unmodified: discovery, authorization code
// + PKCE through the real login form over HTTP, code exchange with id_token and nonce validation, refresh,
// userinfo, client_credentials, introspection and revocation — plus the negative cases and key rotation.
import t from 'tap';
import * as client from 'openid-client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { http, registerAndLogin } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import { createClient, deleteClient, listClients } from '../../cli/actions/clients.actions.js';
import { retireKey, rotateKey } from '../../cli/actions/keys.actions.js';
import { operatorScope } from '../../cli/context.js';
import { CookieJar, authorizeThroughLogin, hiddenField, send, startOidcApp, submitLogin } from './oidc-harness.js';

const REDIRECT = 'http://127.0.0.1:9/callback';

let app: TestApp;
let base: string;
let user: Awaited<ReturnType<typeof registerAndLogin>>;
let confidential: { id: string; secret: string };
let rsClient: { id: string; secret: string };
let publicClient: { id: string };
let thirdParty: { id: string; secret: string };
let service: { id: string; secret: string };

const insecure = { execute: [client.allowInsecureRequests] };

async function register(input: Parameters<typeof createClient>[2]): Promise<{ id: string; secret: string }> {
  const out = await createClient(app.app.context.core, operatorScope(), input);
  const data = (out as { data: { client_id: string; client_secret?: string } }).data;
  return { id: data.client_id, secret: data.client_secret ?? '' };
}

t.before(async () => {
  app = await startOidcApp();
  base = app.url;
  user = await registerAndLogin(base);
  confidential = await register({ name: 'Web App', redirectUris: [REDIRECT], confidential: true, firstParty: true });
  rsClient = await register({ name: 'Legacy RP', redirectUris: [REDIRECT], confidential: true, firstParty: true, idTokenAlg: 'RS256' });
  publicClient = await register({ name: 'SPA', redirectUris: [REDIRECT], confidential: false, firstParty: true });
  thirdParty = await register({ name: 'Partner', redirectUris: [REDIRECT], confidential: true });
  service = await register({ name: 'Reports job', redirectUris: [], confidential: true, scopes: ['reports:read', 'reports:write'], grantTypes: ['client_credentials'] });
});
t.teardown(() => app.close());

const discover = (id: string, auth: client.ClientAuth) => client.discovery(new URL(base), id, undefined, auth, insecure);

/** A full authorization-code + PKCE flow as an RP would run it; returns the token response and what it sent. */
async function codeFlow(config: client.Configuration, scope = 'openid profile email offline_access', extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...extra,
  });
  const jar = new CookieJar();
  const callback = await authorizeThroughLogin(base, url, jar, user.email, user.password);
  return { callback, verifier, nonce, state, jar };
}

t.test('discovery document and JWKS', async (t) => {
  const config = await discover(confidential.id, client.ClientSecretBasic(confidential.secret));
  const meta = config.serverMetadata();
  t.equal(meta.issuer, base, 'issuer is PUBLIC_URL');
  t.equal(meta.authorization_endpoint, `${base}/oauth2/authorize`);
  t.same(meta.code_challenge_methods_supported, ['S256'], 'plain is not offered');
  t.ok(meta.id_token_signing_alg_values_supported?.includes('EdDSA') && meta.id_token_signing_alg_values_supported.includes('RS256'));
  const jwks = await http(base, 'GET', '/.well-known/jwks.json');
  t.ok(jwks.body.keys.some((k: { alg: string }) => k.alg === 'EdDSA') && jwks.body.keys.some((k: { alg: string }) => k.alg === 'RS256'));
});

t.test('authorization code + PKCE through the login form; id_token, nonce, userinfo, refresh', async (t) => {
  const config = await discover(confidential.id, client.ClientSecretBasic(confidential.secret));
  const flow = await codeFlow(config);
  t.equal(flow.callback.searchParams.get('iss'), base, 'RFC 9207 iss in the response');
  const tokens = await client.authorizationCodeGrant(config, flow.callback, { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state, idTokenExpected: true });
  const claims = tokens.claims()!;
  t.equal(claims.sub, user.userId);
  t.equal(claims.aud, confidential.id);
  t.equal(claims.nonce, flow.nonce);
  t.equal(claims.email, user.email);
  t.type(claims.auth_time, 'number');
  t.type(claims.sid, 'string');
  t.equal(decodeProtectedHeader(tokens.id_token!).alg, 'EdDSA', 'EdDSA by default');
  t.ok(tokens.refresh_token, 'offline_access → refresh token');
  t.equal(decodeJwt(tokens.access_token).scope, 'openid profile email offline_access');

  const info = await client.fetchUserInfo(config, tokens.access_token, user.userId);
  t.equal(info.email, user.email);
  t.equal(info.email_verified, false);
  t.type(info.preferred_username, 'string');

  // The same access token works at the proxy (same iss/aud/typ) on an API route.
  const api = await http(base, 'GET', '/api/data', { token: tokens.access_token });
  t.equal(api.status, 200);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
  t.ok(refreshed.access_token && refreshed.refresh_token && refreshed.id_token);
  t.equal(refreshed.claims()!.sub, user.userId);
  t.not(refreshed.refresh_token, tokens.refresh_token, 'rotated');
  // Reuse of the spent refresh token → invalid_grant, and the whole session is revoked (reuse detection).
  const reuse = await client.refreshTokenGrant(config, tokens.refresh_token!).catch((e: unknown) => e);
  t.equal((reuse as client.ResponseBodyError).error, 'invalid_grant');
  const after = await client.refreshTokenGrant(config, refreshed.refresh_token!).catch((e: unknown) => e);
  t.equal((after as client.ResponseBodyError).error, 'invalid_grant', 'the rotated token died with the session');
});

t.test('a wrong nonce is caught by the relying party', async (t) => {
  const config = await discover(confidential.id, client.ClientSecretPost(confidential.secret));
  const flow = await codeFlow(config, 'openid');
  const err = await client
    .authorizationCodeGrant(config, flow.callback, { pkceCodeVerifier: flow.verifier, expectedNonce: 'not-the-nonce', expectedState: flow.state })
    .catch((e: unknown) => e);
  t.ok(err instanceof Error, 'nonce mismatch rejected');
});

t.test('RS256 client, client_secret_post, no offline_access → no refresh token', async (t) => {
  const config = await discover(rsClient.id, client.ClientSecretPost(rsClient.secret));
  const flow = await codeFlow(config, 'openid email');
  const tokens = await client.authorizationCodeGrant(config, flow.callback, { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state });
  t.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
  t.equal(tokens.refresh_token, undefined);
  t.equal(tokens.claims()!.preferred_username, undefined, 'no profile claims without the profile scope');
});

t.test('public client: none + PKCE; introspection refused', async (t) => {
  const config = await discover(publicClient.id, client.None());
  const flow = await codeFlow(config, 'openid');
  const tokens = await client.authorizationCodeGrant(config, flow.callback, { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state });
  t.ok(tokens.id_token);
  const res = await http(base, 'POST', '/oauth2/introspect', {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: publicClient.id, token: tokens.access_token }).toString(),
  });
  t.equal(res.status, 401);
  t.equal(res.body.error, 'invalid_client');
});

t.test('client_credentials, introspection and revocation', async (t) => {
  const svc = await discover(service.id, client.ClientSecretBasic(service.secret));
  const cc = await client.clientCredentialsGrant(svc, { scope: 'reports:read' });
  const claims = decodeJwt(cc.access_token);
  t.equal(claims.sub, service.id);
  t.equal(claims.client_id, service.id);
  t.equal(claims.scope, 'reports:read');
  t.equal(cc.refresh_token, undefined);
  const wider = await client.clientCredentialsGrant(svc, { scope: 'admin' }).catch((e: unknown) => e);
  t.equal((wider as client.ResponseBodyError).error, 'invalid_scope');

  const rp = await discover(confidential.id, client.ClientSecretBasic(confidential.secret));
  const flow = await codeFlow(rp);
  const tokens = await client.authorizationCodeGrant(rp, flow.callback, { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state });
  // A resource server (the service client) introspects the user's access token.
  const active = await client.tokenIntrospection(svc, tokens.access_token);
  t.equal(active.active, true);
  t.equal(active.sub, user.userId);
  t.equal(active.client_id, confidential.id);
  t.equal((await client.tokenIntrospection(svc, cc.access_token)).active, true);
  t.equal((await client.tokenIntrospection(svc, 'garbage')).active, false);
  // Refresh tokens are disclosed only to their own client.
  t.equal((await client.tokenIntrospection(rp, tokens.refresh_token!)).active, true);
  t.equal((await client.tokenIntrospection(svc, tokens.refresh_token!)).active, false);

  // Revoking the refresh token revokes its session: both tokens go inactive, refresh fails.
  await client.tokenRevocation(rp, tokens.refresh_token!);
  t.equal((await client.tokenIntrospection(svc, tokens.access_token)).active, false);
  const refresh = await client.refreshTokenGrant(rp, tokens.refresh_token!).catch((e: unknown) => e);
  t.equal((refresh as client.ResponseBodyError).error, 'invalid_grant');
  const proxied = await http(base, 'GET', '/api/x', { token: tokens.access_token });
  t.equal(proxied.status, 401, 'the proxy rejects the revoked session');
  // Unknown tokens: 200 (RFC 7009 §2.2).
  await client.tokenRevocation(rp, 'never-issued');

  // Revoking an access token revokes its session too.
  const flow2 = await codeFlow(rp);
  const tokens2 = await client.authorizationCodeGrant(rp, flow2.callback, { pkceCodeVerifier: flow2.verifier, expectedNonce: flow2.nonce, expectedState: flow2.state });
  await client.tokenRevocation(rp, tokens2.access_token, { token_type_hint: 'access_token' });
  t.equal((await client.tokenIntrospection(svc, tokens2.access_token)).active, false);
  const r2 = await client.refreshTokenGrant(rp, tokens2.refresh_token!).catch((e: unknown) => e);
  t.equal((r2 as client.ResponseBodyError).error, 'invalid_grant');
});

/** Raw token request (no library) for the negative cases. */
function tokenRequest(form: Record<string, string>, basic?: { id: string; secret: string }) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}`;
  return http(base, 'POST', '/oauth2/token', { headers, body: new URLSearchParams(form).toString() });
}

async function rawAuthorization(extra: Record<string, string> = {}, clientId = confidential.id) {
  const verifier = client.randomPKCECodeVerifier();
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: 'openid offline_access',
    state: 'st-1',
    nonce: 'n-1',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  for (const [k, v] of Object.entries(extra)) {
    if (v === '') params.delete(k);
    else params.set(k, v);
  }
  return { url: new URL(`${base}/oauth2/authorize?${params.toString()}`), verifier };
}

t.test('negative: reused code revokes what it produced; codes are bound to client, redirect_uri, verifier', async (t) => {
  const { url, verifier } = await rawAuthorization();
  const callback = await authorizeThroughLogin(base, url, new CookieJar(), user.email, user.password);
  const code = callback.searchParams.get('code')!;
  t.equal(callback.searchParams.get('state'), 'st-1');
  const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier };
  const first = await tokenRequest(form, confidential);
  t.equal(first.status, 200);
  t.equal(first.headers['cache-control'], 'no-store');
  const second = await tokenRequest(form, confidential);
  t.equal(second.status, 400);
  t.equal(second.body.error, 'invalid_grant');
  t.equal((await http(base, 'GET', '/api/x', { token: first.body.access_token })).status, 401, 'tokens from the first exchange are revoked');

  // Wrong redirect_uri / missing verifier / wrong verifier / other client — each fresh code.
  const cases: Array<[string, (code: string, verifier: string) => Promise<Awaited<ReturnType<typeof tokenRequest>>>, number, string]> = [
    ['wrong redirect_uri', (c, v) => tokenRequest({ ...form, code: c, code_verifier: v, redirect_uri: 'http://127.0.0.1:9/other' }, confidential), 400, 'invalid_grant'],
    ['missing verifier', (c) => tokenRequest({ grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT }, confidential), 400, 'invalid_request'],
    ['wrong verifier', (c) => tokenRequest({ ...form, code: c, code_verifier: client.randomPKCECodeVerifier() }, confidential), 400, 'invalid_grant'],
    ['another client', (c, v) => tokenRequest({ ...form, code: c, code_verifier: v }, rsClient), 400, 'invalid_grant'],
    ['wrong client secret', (c, v) => tokenRequest({ ...form, code: c, code_verifier: v }, { id: confidential.id, secret: 'wrong' }), 401, 'invalid_client'],
    ['no client authentication', (c, v) => tokenRequest({ ...form, code: c, code_verifier: v, client_id: confidential.id }), 401, 'invalid_client'],
  ];
  for (const [name, run, status, error] of cases) {
    const a = await rawAuthorization();
    const cb = await authorizeThroughLogin(base, a.url, new CookieJar(), user.email, user.password);
    const res = await run(cb.searchParams.get('code')!, a.verifier);
    t.equal(res.status, status, name);
    t.equal(res.body.error, error, name);
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8', `${name}: RFC 6749 §5.2 JSON`);
  }
  const basicFail = await tokenRequest({ grant_type: 'client_credentials' }, { id: service.id, secret: 'nope' });
  t.equal(basicFail.status, 401);
  t.match(String(basicFail.headers['www-authenticate']), /^Basic/);
  const unsupported = await tokenRequest({ grant_type: 'password', username: 'x', password: 'y' }, confidential);
  t.equal(unsupported.body.error, 'unsupported_grant_type');
});

t.test('negative: authorization request errors — on a page before redirect_uri is trusted, redirected after', async (t) => {
  const jar = new CookieJar();
  const page = async (extra: Record<string, string>) => send((await rawAuthorization(extra)).url.toString(), jar);

  const wrongRedirect = await page({ redirect_uri: 'https://evil.example/cb' });
  t.equal(wrongRedirect.status, 400, 'wrong redirect_uri: error page');
  t.equal(wrongRedirect.location, undefined, 'never redirected to an unregistered URI');
  t.match(wrongRedirect.text, /role="alert"/);
  const prefix = await page({ redirect_uri: `${REDIRECT}/extra` });
  t.equal(prefix.status, 400, 'prefix match is not a match');
  const unknown = await page({ client_id: 'nope' });
  t.equal(unknown.status, 400);

  const redirected = async (extra: Record<string, string>, error: string, name: string) => {
    const res = await page(extra);
    t.equal(res.status, 302, name);
    const loc = new URL(res.location!);
    t.equal(`${loc.origin}${loc.pathname}`, REDIRECT, name);
    t.equal(loc.searchParams.get('error'), error, name);
    t.equal(loc.searchParams.get('state'), 'st-1', name);
  };
  await redirected({ code_challenge: '', code_challenge_method: '' }, 'invalid_request', 'missing PKCE');
  await redirected({ code_challenge_method: 'plain' }, 'invalid_request', 'plain refused');
  await redirected({ code_challenge_method: '' }, 'invalid_request', 'absent method = plain, refused');
  await redirected({ response_type: 'token' }, 'unsupported_response_type', 'implicit refused');
  await redirected({ scope: 'openid admin' }, 'invalid_scope', 'unregistered scope');
  await redirected({ prompt: 'none' }, 'login_required', 'prompt=none without a session');
});

t.test('prompt=login forces a new sign-in; a third-party client asks for consent', async (t) => {
  const jar = new CookieJar();
  const first = await rawAuthorization();
  const cb = await authorizeThroughLogin(base, first.url, jar, user.email, user.password);
  t.ok(cb.searchParams.get('code'));
  // With the session cookie, a plain request goes straight back with a code…
  const again = await send((await rawAuthorization()).url.toString(), jar);
  t.equal(again.status, 302);
  t.ok(new URL(again.location!).searchParams.get('code'), 'SSO: no second login');
  // …but prompt=login sends the browser to the login page.
  const forced = await send((await rawAuthorization({ prompt: 'login' })).url.toString(), jar);
  t.equal(new URL(forced.location!, base).pathname, '/oauth2/login');
  const relogin = await authorizeThroughLogin(base, (await rawAuthorization({ prompt: 'login' })).url, jar, user.email, user.password);
  t.ok(relogin.searchParams.get('code'), 'code after re-authentication');

  // Third-party client: consent page (CSRF-protected), deny → access_denied, allow → code.
  const tp = await rawAuthorization({}, thirdParty.id);
  const consentPage = await send(tp.url.toString(), jar);
  t.equal(consentPage.status, 200);
  t.match(consentPage.text, /Allow Partner\?/);
  const fields: Record<string, string> = {};
  for (const m of consentPage.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!.replace(/&amp;/g, '&');
  const deny = await send(`${base}/oauth2/authorize`, jar, { form: { ...fields, consent: 'deny' } });
  t.equal(new URL(deny.location!).searchParams.get('error'), 'access_denied');
  const forged = await send(`${base}/oauth2/authorize`, jar, { form: { ...fields, csrf_token: 'x'.repeat(43), consent: 'allow' } });
  t.equal(forged.status, 403, 'consent without the CSRF token is refused');
  const allow = await send(`${base}/oauth2/authorize`, jar, { form: { ...fields, consent: 'allow' } });
  t.ok(new URL(allow.location!).searchParams.get('code'), 'consent given → code');
});

t.test('login page: CSRF, WCAG basics, open-redirect attempts on the return URL', async (t) => {
  const jar = new CookieJar();
  const page = await send(`${base}/oauth2/login?return_to=${encodeURIComponent('/app/x?y=1')}`, jar);
  t.equal(page.status, 200);
  t.match(page.text, /<html lang="en">/);
  t.match(page.text, /<title>Sign in – /);
  t.match(page.text, /<label for="email">/);
  t.match(page.text, /<label for="password">/);
  t.match(page.text, /id="email"[^>]*autofocus/);
  t.equal(page.headers['x-frame-options'], 'DENY');
  t.equal(hiddenField(page.text, 'return_to'), '/app/x?y=1');

  const bad = await submitLogin(base, '/oauth2/login', new CookieJar(), user.email, 'wrong password!!');
  t.equal(bad.status, 401);
  t.match(bad.text, /role="alert"[^>]*autofocus/);
  t.match(bad.text, /<title>Error: Sign in/);

  const noCsrf = await send(`${base}/oauth2/login`, new CookieJar(), { form: { email: user.email, password: user.password, return_to: '/' } });
  t.equal(noCsrf.status, 403, 'no CSRF cookie/token → refused');
  const crossOrigin = await submitLogin(base, '/oauth2/login', new CookieJar(), user.email, user.password);
  t.equal(crossOrigin.status, 303, 'sanity: same-origin login works');

  for (const evil of ['//evil.example', 'https://evil.example', '/\\evil.example', '/%2F%2Fevil.example', '/%5Cevil.example']) {
    const j = new CookieJar();
    const shown = await send(`${base}/oauth2/login?return_to=${encodeURIComponent(evil)}`, j);
    t.equal(hiddenField(shown.text, 'return_to'), '/', `GET ${evil}: replaced by /`);
    const posted = await submitLogin(base, '/oauth2/login', j, user.email, user.password, { return_to: evil });
    t.equal(posted.status, 303);
    t.equal(posted.location, '/', `POST ${evil}: redirected to / only`);
  }
});

t.test('key rotation: tokens signed before `keys rotate` verify; after `keys retire` they fail', async (t) => {
  const core = app.app.context.core;
  const config = await discover(confidential.id, client.ClientSecretBasic(confidential.secret));
  const flow = await codeFlow(config);
  const before = await client.authorizationCodeGrant(config, flow.callback, { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state });
  const oldKid = decodeProtectedHeader(before.access_token).kid!;
  await rotateKey(core, operatorScope(), 'EdDSA');
  t.equal((await http(base, 'GET', '/auth/me', { token: before.access_token })).status, 200, 'old token still verifies after rotate');
  t.equal((await client.fetchUserInfo(config, before.access_token, user.userId)).sub, user.userId);
  const fresh = await client.refreshTokenGrant(config, before.refresh_token!);
  t.not(decodeProtectedHeader(fresh.access_token).kid, oldKid, 'new tokens use the new key');
  t.ok(fresh.claims(), 'id_token under the new key validates (fetched JWKS)');
  await retireKey(core, operatorScope(), oldKid);
  t.equal((await http(base, 'GET', '/auth/me', { token: before.access_token })).status, 401, 'retired key: rejected');
  const jwks = await http(base, 'GET', '/.well-known/jwks.json');
  t.notOk(jwks.body.keys.some((k: { kid: string }) => k.kid === oldKid), 'retired key left the JWKS');
  t.equal((await http(base, 'GET', '/auth/me', { token: fresh.access_token })).status, 200);
});

t.test('authctl clients: list never shows secrets; delete revokes the client', async (t) => {
  const core = app.app.context.core;
  const out = (await listClients(core)) as unknown as { rows: Array<Record<string, unknown>> };
  t.ok(out.rows.length >= 5);
  t.notOk(JSON.stringify(out.rows).includes(confidential.secret), 'no secret in the list');
  t.notOk(JSON.stringify(out.rows).includes('secret_hash'));
  const temp = await register({ name: 'Temp', redirectUris: [REDIRECT], confidential: true, firstParty: true });
  const config = await discover(temp.id, client.ClientSecretBasic(temp.secret));
  const flow = await codeFlow(config);
  const tokens = await client.authorizationCodeGrant(config, flow.callback, { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state });
  await deleteClient(core, operatorScope(), temp.id);
  t.equal((await http(base, 'GET', '/api/x', { token: tokens.access_token })).status, 401, 'its sessions are revoked');
  const res = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, temp);
  t.equal(res.body.error, 'invalid_client');
  const bad = await createClient(core, operatorScope(), { name: 'x', redirectUris: ['http://evil.example/cb'], confidential: false }).catch((e: unknown) => e);
  t.equal((bad as { code: string }).code, 'ERR_VALIDATION', 'http redirect URIs only for loopback');
});
