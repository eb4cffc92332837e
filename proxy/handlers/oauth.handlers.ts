// HTTP handlers for the OAuth2 / OpenID Connect endpoints and the browser login (docs/oidc.md):
// /oauth2/authorize, /oauth2/login, /oauth2/logout (HTML, no JavaScript), /oauth2/token, /oauth2/revoke,
// /oauth2/introspect (RFC 6749 §5.2 JSON errors — the OAuth contract, not problem+json) and /oauth2/userinfo.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Core } from '../../core/container.js';
import { isAppError, type AppError } from '../../core/errors.js';
import { randomToken, safeEqual } from '../../core/crypto/secrets.js';
import { OAuthError, isOAuthError } from '../../core/oauth/oauth-error.js';
import { AuthorizePageError, type AuthorizeParams } from '../../core/oauth/oauth.service.js';
import type { ClientCredentials } from '../../core/oauth/client.service.js';
import { safeReturnPath } from '../../core/oauth/return-url.js';
import { readForm } from '../http/body.js';
import { NO_STORE, sendJson } from '../http/respond.js';
import type { HandlerContext, Router } from '../http/router.js';
import { requireBearer } from './auth.handlers.js';
import { renderConsentPage, renderErrorPage, renderLoginPage, renderLogoutPage } from './login-page.js';
import { clearSessionCookie, cookieNames, requestCookie, serializeCookie, sessionCookie, type CookieNames } from './session-cookie.js';

export const LOGIN_PATH = '/oauth2/login';
const AUTHORIZE_PATH = '/oauth2/authorize';
const LOGOUT_PATH = '/oauth2/logout';

// Pages are never framed (clickjacking on login/consent), never cached, and load nothing. No form-action:
// browsers apply it to the redirect chain after a POST, which ends at the client's redirect_uri.
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: under no-referrer browsers send `Origin: null` on the form POST, which the
  // CSRF Origin check must refuse; nothing leaks to other origins either way.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
} as const;

const CSRF_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const TENANT_SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface OAuthHandlerDeps {
  core: Core;
  bodyLimit: number;
}

function sendHtml(res: ServerResponse, status: number, html: string, cookies: string[] = [], extra: Record<string, string> = {}): void {
  const headers: Record<string, string | string[] | number> = { ...PAGE_HEADERS, ...extra, 'content-length': Buffer.byteLength(html) };
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(status, headers);
  res.end(html);
}

function redirect(res: ServerResponse, status: 302 | 303, location: string, cookies: string[] = []): void {
  const headers: Record<string, string | string[]> = { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' };
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(status, headers);
  res.end();
}

/** RFC 6749 §5.2 error body for the token, revocation and introspection endpoints. */
export function sendOAuthJsonError(res: ServerResponse, raw: unknown, logger: Logger, requestId: string): void {
  let status = 500;
  let error = 'server_error';
  let description: string | undefined = 'An unexpected error occurred.';
  let headers: Record<string, string> = {};
  if (isOAuthError(raw)) {
    status = raw.status;
    error = raw.error;
    description = raw.detail;
    headers = raw.headers ?? {};
  } else if (isAppError(raw) && raw.status < 500) {
    // Malformed requests (wrong media type, repeated parameter, too large, rate limited) keep their status.
    status = raw.status === 401 ? 400 : raw.status;
    error = 'invalid_request';
    description = raw.detail ?? raw.title;
    headers = raw.headers ?? {};
  } else {
    const err = raw as AppError;
    if (isAppError(raw) && raw.status === 503) {
      status = 503;
      error = 'temporarily_unavailable';
      description = 'The service is temporarily unavailable.';
    }
    logger.error({ err: isAppError(raw) ? (err.cause ?? err) : raw, request_id: requestId }, 'oauth2 request failed');
  }
  sendJson(res, status, description ? { error, error_description: description } : { error }, { ...NO_STORE, ...headers });
}

/** `Authorization: Basic` credentials, form-decoded as RFC 6749 §2.3.1 requires; null when absent. */
export function basicCredentials(req: IncomingMessage): { id: string; secret: string } | null {
  const header = req.headers.authorization;
  if (!header || !/^Basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) throw new OAuthError('invalid_client', 'Malformed Basic credentials.', 401, { 'www-authenticate': 'Basic realm="authgate"' });
  try {
    const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: dec(decoded.slice(0, colon)), secret: dec(decoded.slice(colon + 1)) };
  } catch {
    throw new OAuthError('invalid_client', 'Malformed Basic credentials.', 401, { 'www-authenticate': 'Basic realm="authgate"' });
  }
}

function clientCredentials(req: IncomingMessage, form: Readonly<Record<string, string>>): ClientCredentials {
  return { basic: basicCredentials(req), clientId: form.client_id, clientSecret: form.client_secret };
}

/** Query parameters; a repeated one is an error (RFC 6749 §3.1). */
function singleParams(query: URLSearchParams): AuthorizeParams | null {
  const out: Record<string, string> = {};
  for (const [k, v] of query) {
    if (k in out) return null;
    out[k] = v;
  }
  return out;
}

export function registerOAuthRoutes(router: Router, { core, bodyLimit }: OAuthHandlerDeps): void {
  const { provider, clients, browserSessions } = core.oauth;
  const names: CookieNames = cookieNames(core.config);
  const product = core.config.mail.product_name;
  const logger = core.logger.child({ component: 'oauth2' });
  const publicOrigin = new URL(core.config.server.public_url).origin;

  const csrfCookie = (token: string) => serializeCookie(names.csrf, token, { secure: names.secure, sameSite: 'Strict' });

  /** The double-submit CSRF token: reuse the browser's cookie when it has one (several tabs), else a new one. */
  function csrfFor(req: IncomingMessage): { token: string; cookies: string[] } {
    const existing = requestCookie(req, names.csrf);
    if (existing && CSRF_TOKEN.test(existing)) return { token: existing, cookies: [] };
    const token = randomToken(32);
    return { token, cookies: [csrfCookie(token)] };
  }

  /** A form POST passes when its token equals the CSRF cookie and any Origin header is our own. */
  function csrfValid(req: IncomingMessage, form: Readonly<Record<string, string>>): boolean {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== publicOrigin) return false;
    const cookie = requestCookie(req, names.csrf);
    const sent = form.csrf_token;
    return cookie !== undefined && sent !== undefined && CSRF_TOKEN.test(cookie) && safeEqual(cookie, sent);
  }

  function errorPage(ctx: HandlerContext, status: number, title: string, message: string): void {
    sendHtml(ctx.res, status, renderErrorPage(title, message, product));
  }

  // --- authorization endpoint (GET, and POST as OIDC Core §3.1.2.1 requires; POST also carries consent) ---

  async function authorize(ctx: HandlerContext, params: AuthorizeParams | null): Promise<void> {
    if (params === null) {
      errorPage(ctx, 400, 'Invalid authorization request', 'A parameter was sent more than once.');
      return;
    }
    let trusted;
    try {
      trusted = await provider.trustedClient(params);
    } catch (err) {
      if (err instanceof AuthorizePageError) {
        // RFC 6749 §4.1.2.1: never redirect to an unverified redirect_uri — show the error here.
        errorPage(ctx, 400, 'Invalid authorization request', err.description);
        return;
      }
      throw err;
    }
    const cookies: string[] = [];
    try {
      const request = provider.validateRequest(trusted.client, trusted.redirectUri, params);
      let consent: 'allow' | 'deny' | null = null;
      if (ctx.req.method === 'POST' && params.consent !== undefined) {
        if (!csrfValid(ctx.req, params)) {
          errorPage(ctx, 403, 'Request expired', 'The consent form expired or did not come from this site. Start again from the application.');
          return;
        }
        consent = params.consent === 'allow' ? 'allow' : 'deny';
      }
      const browser = await browserSessions.resume(requestCookie(ctx.req, names.session), ctx.meta);
      if (browser?.renewed) cookies.push(sessionCookie(names, browser.renewed, browserSessions.maxAgeSeconds));
      const outcome = await provider.decide(request, browser, consent, ctx.meta);
      if (outcome.kind === 'redirect') {
        redirect(ctx.res, 302, outcome.location, cookies);
        return;
      }
      if (outcome.kind === 'login') {
        const q = new URLSearchParams({ return_to: outcome.returnTo });
        if (outcome.tenant !== 'default') q.set('tenant', outcome.tenant);
        if (outcome.loginHint) q.set('login_hint', outcome.loginHint);
        redirect(ctx.res, 302, `${LOGIN_PATH}?${q.toString()}`, cookies);
        return;
      }
      const csrf = csrfFor(ctx.req);
      const html = renderConsentPage({
        action: AUTHORIZE_PATH,
        clientName: outcome.request.client.name,
        userEmail: outcome.user.email,
        scopes: outcome.request.scope.split(' ').filter((s) => s !== ''),
        params,
        csrfToken: csrf.token,
        productName: product,
      });
      sendHtml(ctx.res, 200, html, [...cookies, ...csrf.cookies]);
    } catch (err) {
      if (isOAuthError(err)) {
        redirect(ctx.res, 302, provider.errorRedirect(trusted.redirectUri, params.state, err), cookies);
        return;
      }
      throw err;
    }
  }

  router.add('GET', AUTHORIZE_PATH, (ctx) => authorize(ctx, singleParams(ctx.query)));
  router.add('POST', AUTHORIZE_PATH, async (ctx) => {
    let form: Record<string, string>;
    try {
      form = await readForm(ctx.req, bodyLimit);
    } catch (err) {
      if (isAppError(err) && err.status < 500) return authorize(ctx, null);
      throw err;
    }
    await authorize(ctx, form);
  });

  // --- login page ---------------------------------------------------------------------------------

  function loginPage(
    ctx: HandlerContext,
    status: number,
    input: { returnTo: string; tenant: string | undefined; email?: string; error?: string },
    extraCookies: string[] = [],
    extraHeaders: Record<string, string> = {},
  ): void {
    const csrf = csrfFor(ctx.req);
    const html = renderLoginPage({
      action: LOGIN_PATH,
      returnTo: input.returnTo,
      csrfToken: csrf.token,
      productName: product,
      ...(input.email !== undefined ? { email: input.email } : {}),
      ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
      ...(input.error !== undefined ? { error: input.error } : {}),
    });
    sendHtml(ctx.res, status, html, [...extraCookies, ...csrf.cookies], extraHeaders);
  }

  const tenantParam = (v: string | null | undefined): string | undefined => (v && TENANT_SLUG.test(v) ? v : undefined);

  router.add('GET', LOGIN_PATH, async (ctx) => {
    // An unsafe return URL is replaced by "/", never followed (open redirect, CWE-601).
    const returnTo = safeReturnPath(ctx.query.get('return_to')) ?? '/';
    const hint = ctx.query.get('login_hint');
    loginPage(ctx, 200, { returnTo, tenant: tenantParam(ctx.query.get('tenant')), ...(hint && hint.length <= 320 ? { email: hint } : {}) });
  });

  router.add('POST', LOGIN_PATH, async (ctx) => {
    const form = await readForm(ctx.req, bodyLimit);
    const returnTo = safeReturnPath(form.return_to) ?? '/';
    const tenant = tenantParam(form.tenant);
    const email = (form.email ?? '').slice(0, 320);
    if (!csrfValid(ctx.req, form)) {
      // Fresh token: the old cookie may be missing or stale.
      const token = randomToken(32);
      const html = renderLoginPage({
        action: LOGIN_PATH,
        returnTo,
        csrfToken: token,
        productName: product,
        email,
        ...(tenant ? { tenant } : {}),
        error: 'This sign-in form expired or did not come from this site. Please sign in again.',
      });
      sendHtml(ctx.res, 403, html, [csrfCookie(token)]);
      return;
    }
    const password = form.password ?? '';
    if (email.trim() === '' || password === '') {
      loginPage(ctx, 400, { returnTo, tenant, email, error: 'Enter your email address and your password.' });
      return;
    }
    let value: string;
    try {
      value = await browserSessions.login({ email, password, ...(tenant ? { tenant } : {}) }, ctx.meta);
    } catch (err) {
      if (!isAppError(err) || err.status >= 500) throw err;
      const message =
        err.status === 401
          ? 'The email address or password is incorrect.'
          : err.status === 429
            ? 'Too many sign-in attempts. Wait a moment and try again.'
            : err.code === 'ERR_EMAIL_NOT_VERIFIED'
              ? 'Verify your email address before signing in. Check your inbox for the link.'
              : 'Sign-in failed. Check your details and try again.';
      loginPage(ctx, err.status, { returnTo, tenant, email, error: message }, [], err.headers ?? {});
      return;
    }
    // A new sign-in replaces the previous browser session (no fixation, no orphaned session).
    const previous = requestCookie(ctx.req, names.session);
    if (previous) await browserSessions.logout(previous, ctx.meta);
    redirect(ctx.res, 303, returnTo, [sessionCookie(names, value, browserSessions.maxAgeSeconds)]);
  });

  router.add('GET', LOGOUT_PATH, async (ctx) => {
    const csrf = csrfFor(ctx.req);
    const returnTo = safeReturnPath(ctx.query.get('return_to')) ?? '/';
    sendHtml(ctx.res, 200, renderLogoutPage({ action: LOGOUT_PATH, csrfToken: csrf.token, returnTo, productName: product }), csrf.cookies);
  });

  router.add('POST', LOGOUT_PATH, async (ctx) => {
    const form = await readForm(ctx.req, bodyLimit);
    if (!csrfValid(ctx.req, form)) {
      errorPage(ctx, 403, 'Request expired', 'The sign-out form expired or did not come from this site.');
      return;
    }
    await browserSessions.logout(requestCookie(ctx.req, names.session), ctx.meta);
    redirect(ctx.res, 303, safeReturnPath(form.return_to) ?? '/', [clearSessionCookie(names)]);
  });

  // --- token, revocation, introspection (RFC 6749 §5.2 JSON errors) --------------------------------

  router.add('POST', '/oauth2/token', async (ctx) => {
    try {
      const form = await readForm(ctx.req, bodyLimit);
      const caller = await clients.authenticate(clientCredentials(ctx.req, form));
      sendJson(ctx.res, 200, await provider.token(form, caller, ctx.meta), NO_STORE);
    } catch (err) {
      sendOAuthJsonError(ctx.res, err, logger, ctx.requestId);
    }
  });

  router.add('POST', '/oauth2/revoke', async (ctx) => {
    try {
      const form = await readForm(ctx.req, bodyLimit);
      const caller = await clients.authenticate(clientCredentials(ctx.req, form));
      if (!form.token) throw new OAuthError('invalid_request', 'The token parameter is missing.');
      await provider.revoke(form.token, form.token_type_hint, caller.client, ctx.meta);
      // RFC 7009 §2.2: 200 whether or not the token was valid.
      ctx.res.writeHead(200, { ...NO_STORE, 'content-length': '0' });
      ctx.res.end();
    } catch (err) {
      sendOAuthJsonError(ctx.res, err, logger, ctx.requestId);
    }
  });

  router.add('POST', '/oauth2/introspect', async (ctx) => {
    try {
      const form = await readForm(ctx.req, bodyLimit);
      const caller = await clients.authenticate(clientCredentials(ctx.req, form));
      // RFC 7662 §4: introspection reveals token data, so only authenticated (confidential) clients may ask.
      if (caller.method === 'none') throw new OAuthError('invalid_client', 'Introspection requires an authenticated confidential client.', 401);
      if (!form.token) throw new OAuthError('invalid_request', 'The token parameter is missing.');
      sendJson(ctx.res, 200, await provider.introspect(form.token, form.token_type_hint, caller.client), NO_STORE);
    } catch (err) {
      sendOAuthJsonError(ctx.res, err, logger, ctx.requestId);
    }
  });

  // --- userinfo (bearer; errors are problem+json with RFC 6750 WWW-Authenticate) -------------------

  const userinfo = async (ctx: HandlerContext) => {
    const auth = await requireBearer(core, ctx);
    sendJson(ctx.res, 200, await provider.userinfo(auth), NO_STORE);
  };
  router.add('GET', '/oauth2/userinfo', userinfo);
  router.add('POST', '/oauth2/userinfo', userinfo);
}
