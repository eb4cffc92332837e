// Stage: verify the bearer token (pinned algorithms, issuer, audience, typ; keys only from our own key
// store — jku/jwk/x5u headers are never fetched). A bounded cache keyed by the token skips the signature
// check for repeat callers; entries die at the token's exp.
import type { ProxyContext } from './request-context.js';

export function verifyToken(ctx: ProxyContext): void | Promise<void> {
  const token = ctx.token;
  if (token === null) return;
  const { tokenCache, metrics } = ctx.deps;
  const cached = tokenCache.get(token);
  if (cached !== undefined) {
    metrics.tokenCache.inc({ result: 'hit' });
    ctx.claims = cached;
    return;
  }
  metrics.tokenCache.inc({ result: 'miss' });
  return ctx.deps.core.tokens.verifyAccessToken(token).then((claims) => {
    tokenCache.set(token, claims);
    ctx.claims = claims;
  });
}
