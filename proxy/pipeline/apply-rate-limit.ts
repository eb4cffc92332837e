// Pipeline stage (after authorize): counts the request against the global per-IP limit and the route's
// `rate_limit` (by ip | user | tenant | route), refuses with 429 + Retry-After + RateLimit-* when spent,
// and otherwise leaves the RateLimit-* headers for the forwarded response.
import type { RouteLimiterRegistry } from '../../core/ratelimit/route-limiters.js';
import { rateLimitError, rateLimitHeaders } from '../../core/ratelimit/rate-limit.js';
import type { Metrics } from '../metrics.js';
import type { ProxyContext, RateLimitHook } from './request-context.js';

export function createApplyRateLimit(registry: RouteLimiterRegistry, metrics: Metrics): RateLimitHook {
  return async function applyRateLimit(ctx: ProxyContext): Promise<void> {
    const claims = ctx.claims;
    // The client address comes from the socket, or X-Forwarded-For only when the peer is a trusted proxy:
    // a spoofed header from anyone else cannot move the request into another bucket.
    const clientIp = ctx.deps.trusted.clientIp(ctx.req);
    const decision = await registry.forPolicy(ctx.policy).check(ctx.route, claims === null ? null : { sub: claims.sub, tid: claims.tid }, clientIp);
    const outcome = decision.outcome;
    if (outcome === null) return;
    if (!outcome.allowed) {
      metrics.rateLimited.labels(ctx.routeName, decision.refusedBy ?? 'unknown').inc();
      throw rateLimitError(outcome);
    }
    ctx.rateLimitHeaders = rateLimitHeaders(outcome);
  };
}
