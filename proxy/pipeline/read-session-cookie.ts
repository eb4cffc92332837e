// Stage: the browser-session cookie (docs/oidc.md). It and the login form's CSRF cookie are removed from the
// Cookie header sent upstream on every route (authgate's session is not the application's). On `login:
// redirect` routes a request with no bearer token is authenticated by the access JWT inside it — verified by
// the next stage like any bearer token, so no database query while it is fresh. An expired JWT is re-minted
// through the session's refresh token (rotation + reuse detection); the new cookie goes back on the response.
import { BrowserSessionService } from '../../core/oauth/browser-session.service.js';
import { needsIdentity } from '../../core/policy/index.js';
import { cookieNames, readCookie, sessionCookie, withoutCookie, type CookieNames } from '../handlers/session-cookie.js';
import type { ProxyContext } from './request-context.js';

const namesByConfig = new WeakMap<object, CookieNames>();

function namesOf(ctx: ProxyContext): CookieNames {
  const config = ctx.deps.core.config;
  let names = namesByConfig.get(config);
  if (names === undefined) {
    names = cookieNames(config);
    namesByConfig.set(config, names);
  }
  return names;
}

/** Drops authgate's cookies from the `cookie` entries already copied into the upstream header list. */
function stripFromUpstream(out: string[], names: CookieNames): void {
  for (let i = 0; i < out.length; i += 2) {
    if ((out[i] as string).toLowerCase() !== 'cookie') continue;
    const withoutSession = withoutCookie(out[i + 1] as string, names.session);
    const kept = withoutSession === null ? null : withoutCookie(withoutSession, names.csrf);
    if (kept === null) {
      out.splice(i, 2);
      i -= 2;
    } else out[i + 1] = kept;
  }
}

export function readSessionCookie(ctx: ProxyContext): void | Promise<void> {
  const header = ctx.req.headers.cookie;
  if (header === undefined) return;
  const names = namesOf(ctx);
  const value = readCookie(header, names.session);
  if (ctx.kind !== 'forward-auth' && (value !== undefined || readCookie(header, names.csrf) !== undefined)) stripFromUpstream(ctx.upstreamHeaders, names);
  if (value === undefined) return;
  const route = ctx.route;
  // Only routes that send browsers to the login page accept the cookie; API routes stay bearer-only (and
  // thereby CSRF-free). An explicit bearer token wins.
  if (ctx.token !== null || ctx.tokenPresented || route === null || route.login !== 'redirect' || !needsIdentity(route)) return;
  const parts = BrowserSessionService.decode(value);
  if (parts === null) return;
  const sessions = ctx.deps.core.oauth.browserSessions;
  if (!sessions.needsRefresh(parts.access)) {
    ctx.token = parts.access;
    return;
  }
  // A renewed cookie can only be delivered on an HTTP response; a WebSocket upgrade or forward-auth check
  // must not spend the refresh token (the browser would keep the spent one and trip reuse detection).
  if (ctx.kind !== 'http') return;
  const meta = { ip: ctx.deps.trusted.clientIp(ctx.req), userAgent: typeof ctx.req.headers['user-agent'] === 'string' ? ctx.req.headers['user-agent'].slice(0, 512) : null };
  return sessions.refresh(parts, meta).then((next) => {
    if (next === null) return;
    ctx.token = next.access;
    ctx.setCookie = sessionCookie(names, BrowserSessionService.encode(next), sessions.maxAgeSeconds);
  });
}
