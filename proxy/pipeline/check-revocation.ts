// Stage: reject tokens of revoked sessions, disabled users and disabled tenants. An in-memory set fed by the
// revocation bus (Redis or DB poll) — never a database query — and it runs on cache hits too.
import { Errors } from '../../core/errors.js';
import type { ProxyContext } from './request-context.js';

export function checkRevocation(ctx: ProxyContext): void {
  const claims = ctx.claims;
  if (claims === null) return;
  if (ctx.deps.core.revocation.isRevoked(claims.sid, claims.sub, claims.tid, claims.iat)) {
    if (ctx.token !== null) ctx.deps.tokenCache.delete(ctx.token);
    throw Errors.tokenRevoked();
  }
}
