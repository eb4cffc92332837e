// Prometheus metrics (prom-client), one registry per server instance, names prefixed authgate_.
import { Counter, Histogram, Registry, collectDefaultMetrics, Gauge } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'authgate_' });
  return {
    registry,
    requests: new Counter({
      name: 'authgate_requests_total',
      help: 'Requests handled, by route and decision',
      labelNames: ['route', 'decision'] as const,
      registers: [registry],
    }),
    upstreamLatency: new Histogram({
      name: 'authgate_upstream_duration_seconds',
      help: 'Upstream response time (headers received)',
      labelNames: ['upstream'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    tokenCache: new Counter({
      name: 'authgate_token_cache_total',
      help: 'Verified-token cache lookups',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    policyReloads: new Counter({
      name: 'authgate_policy_reloads_total',
      help: 'policies.yaml reloads',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    authEndpoint: new Counter({
      name: 'authgate_auth_requests_total',
      help: 'Requests to authgate endpoints by status class',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'authgate_rate_limited_total',
      help: 'Requests refused by a rate limit',
      labelNames: ['route', 'by'] as const,
      registers: [registry],
    }),
    rateLimiterFallback: new Gauge({
      name: 'authgate_rate_limiter_fallback',
      help: '1 while the Redis rate limiter is unreachable and the in-memory insurance limiter is used',
      registers: [registry],
    }),
    revocations: new Counter({
      name: 'authgate_revocations_total',
      help: 'Revocation events applied by this process',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
