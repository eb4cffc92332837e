// Per-route limiters (policies.yaml `rate_limit`) plus the global per-IP default, built once per compiled
// policy. Limiters are cached by their settings, so a reload that leaves a route's limit unchanged keeps
// its counters (in memory; Redis keeps them anyway).
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { CompiledPolicy, CompiledRoute } from '../policy/types.js';
import type { LimiterStore } from './limiter-store.js';
import { BatchedConsumer, type PointConsumer } from './batched-consume.js';
import { consumePoint, tightest, type RateLimitOutcome } from './rate-limit.js';
import { rateLimitKey, type RateLimitIdentity } from './rate-limit-key.js';

export interface RouteLimitDecision {
  /** The outcome to advertise in headers (null when no limit applies). */
  readonly outcome: RateLimitOutcome | null;
  /** Which limit refused: the route's `by` or `global-ip`. */
  readonly refusedBy: string | null;
}

export interface PolicyLimiters {
  check(route: CompiledRoute | null, identity: RateLimitIdentity | null, clientIp: string | null): Promise<RouteLimitDecision>;
}

export interface RouteLimiterOptions {
  /** Global per-IP default for every proxied request; 0 points disables it. */
  ipPoints: number;
  ipPerSec: number;
  onError?: (err: unknown) => void;
}

/** A limiter as the proxy uses it: consume (batched per event-loop turn on Redis) and give a point back. */
type Limiter = PointConsumer & Pick<RateLimiterAbstract, 'reward'>;

export class RouteLimiterRegistry {
  private readonly cache = new Map<string, Limiter>();
  private readonly perPolicy = new WeakMap<CompiledPolicy, PolicyLimiters>();
  private readonly globalIp: Limiter | null;

  constructor(
    private readonly store: LimiterStore,
    private readonly options: RouteLimiterOptions,
  ) {
    this.globalIp = options.ipPoints > 0 ? this.proxied(store.create({ name: 'global:ip', points: options.ipPoints, durationSec: options.ipPerSec })) : null;
  }

  /**
   * On Redis, every proxied request counts against these limiters: consumes of one key in the same
   * event-loop turn share one counter script (issue 9: core/ratelimit/batched-consume.ts, exact counts).
   */
  private proxied(limiter: RateLimiterAbstract): Limiter {
    return this.store.backend === 'redis' ? new BatchedConsumer(limiter) : limiter;
  }

  /** The limiters of one policy version; built on first use and reused for every request under it. */
  forPolicy(policy: CompiledPolicy): PolicyLimiters {
    let built = this.perPolicy.get(policy);
    if (!built) {
      built = this.build(policy);
      this.perPolicy.set(policy, built);
    }
    return built;
  }

  private limiterFor(route: CompiledRoute): Limiter | null {
    const rl = route.rateLimit;
    if (!rl) return null;
    const signature = `${route.name}|${rl.points}|${rl.durationSeconds}|${rl.by}`;
    let limiter = this.cache.get(signature);
    if (!limiter) {
      limiter = this.proxied(this.store.create({ name: `route:${route.name}`, points: rl.points, durationSec: rl.durationSeconds }));
      this.cache.set(signature, limiter);
    }
    return limiter;
  }

  private build(policy: CompiledPolicy): PolicyLimiters {
    const byRoute = new Map<CompiledRoute, Limiter>();
    for (const route of [...policy.routes, ...(policy.defaultRoute ? [policy.defaultRoute] : [])]) {
      const limiter = this.limiterFor(route);
      if (limiter) byRoute.set(route, limiter);
    }
    const globalIp = this.globalIp;
    const onError = this.options.onError;
    return {
      async check(route, identity, clientIp) {
        const limiter = route ? byRoute.get(route) : undefined;
        const by = route && limiter && route.rateLimit ? route.rateLimit.by : null;
        const routeKey = by === null ? null : rateLimitKey(by, identity, clientIp);
        // Both counters are asked in the same tick: on Redis that is one auto-pipelined write and one round
        // trip per request instead of two in a row (issue 9; docs/benchmarks.md).
        const [g, r] = await Promise.all([
          globalIp ? consumePoint(globalIp, rateLimitKey('ip', null, clientIp), onError) : null,
          limiter && routeKey !== null ? consumePoint(limiter, routeKey, onError) : null,
        ]);
        if (g !== null && !g.allowed) {
          // Refused by the global per-IP limit: give the route its point back, so the route counts only
          // requests that got past the global limit (as when the two were asked one after the other).
          if (r !== null && limiter && routeKey !== null) limiter.reward(routeKey, 1).catch((err: unknown) => onError?.(err));
          return { outcome: g, refusedBy: 'global-ip' };
        }
        if (r !== null && !r.allowed) return { outcome: r, refusedBy: by };
        return { outcome: g === null ? r : r === null ? g : tightest([g, r]), refusedBy: null };
      },
    };
  }
}
