// Denial shaping for `login: redirect` routes: an unauthenticated browser navigation (GET/HEAD with
// Accept: text/html) gets a 302 to the login page carrying a validated same-origin return path, instead of
// the 401 problem+json that API clients on the same route still receive.
import type { ServerResponse } from 'node:http';
import type { AppError } from '../../core/errors.js';
import { safeReturnPath } from '../../core/oauth/return-url.js';
import { LOGIN_PATH } from '../handlers/oauth.handlers.js';
import { clearSessionCookie, cookieNames, readCookie } from '../handlers/session-cookie.js';
import type { ProxyContext } from './request-context.js';

function acceptsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*(text\/html|application\/xhtml\+xml)\s*(;|,|$)/i.test(accept);
}

/** Answers the denial with a login redirect when it applies; false when the caller should send the 401. */
export function redirectToLogin(ctx: ProxyContext, res: ServerResponse, err: AppError): boolean {
  const route = ctx.route;
  if (err.status !== 401 || ctx.kind !== 'http' || route === null || route.login !== 'redirect') return false;
  if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.tokenPresented) return false;
  if (!acceptsHtml(ctx.req.headers.accept)) return false;
  const returnTo = safeReturnPath(ctx.query === '' ? ctx.path : `${ctx.path}?${ctx.query}`) ?? '/';
  const location = `${LOGIN_PATH}?return_to=${encodeURIComponent(returnTo)}`;
  const headers: Record<string, string> = { location, 'cache-control': 'no-store', 'x-request-id': ctx.requestId, 'content-length': '0' };
  const names = cookieNames(ctx.deps.core.config);
  // A cookie that no longer authenticates (revoked, expired session) is cleared on the way to the login page.
  if (readCookie(ctx.req.headers.cookie, names.session) !== undefined) headers['set-cookie'] = clearSessionCookie(names);
  res.writeHead(302, headers);
  res.end();
  return true;
}
