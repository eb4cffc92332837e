// Stage: the credential is `Authorization: Bearer <token>` and nothing else. A token in the query string
// (RFC 6750 §2.3) is refused, never accepted: URLs end up in logs, histories and Referer headers.
import { Errors } from '../../core/errors.js';
import { needsIdentity } from '../../core/policy/index.js';
import type { ProxyContext } from './request-context.js';

// RFC 6750 §2.1 b64token.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BEARER = /^Bearer +/i;

/** True when the raw query has an `access_token` parameter (any position, plain or percent-encoded name). */
export function hasAccessTokenParam(query: string): boolean {
  if (query === '') return false;
  const lower = query.toLowerCase();
  let from = 0;
  for (;;) {
    let at = lower.indexOf('access', from);
    if (at === -1) return false;
    const before = at === 0 ? '&' : lower[at - 1];
    if (before === '&' || before === ';') {
      const rest = lower.slice(at + 6);
      if (rest.startsWith('_token=') || rest.startsWith('%5ftoken=') || rest === '_token' || rest.startsWith('_token&')) return true;
    }
    at += 6;
    from = at;
  }
}

export function readCredential(ctx: ProxyContext): void {
  if (ctx.route === null || !needsIdentity(ctx.route)) return;
  if (hasAccessTokenParam(ctx.query)) {
    throw Errors.badRequest('Send the access token in the Authorization header (Bearer); tokens in the URL are not accepted.', 'ERR_TOKEN_IN_QUERY');
  }
  const header = ctx.req.headers.authorization;
  if (header === undefined || header === '') return;
  const scheme = BEARER.exec(header);
  if (scheme === null) return; // another scheme (Basic …) is not a credential for authgate: 401 below
  ctx.tokenPresented = true;
  const token = header.slice(scheme[0].length).trim();
  if (!B64TOKEN.test(token)) throw Errors.invalidToken('ERR_TOKEN_MALFORMED', 'The access token is malformed.');
  ctx.token = token;
}
