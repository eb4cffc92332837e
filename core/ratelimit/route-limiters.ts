// Per-route limiters (policies.yaml `rate_limit`) plus the global per-IP default, built once per compiled
// policy. Limiters are cached by their settings, so a reload that leaves a route's limit unchanged keeps
// its counters (in memory; Redis keeps them anyway).
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { CompiledPolicy, CompiledRoute } from '../policy/types.js';
import type { LimiterStore } from './limiter-store.js';
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

export class RouteLimiterRegistry {
  private readonly cache = new Map<string, RateLimiterAbstract>();
  private readonly perPolicy = new WeakMap<CompiledPolicy, PolicyLimiters>();
  private readonly globalIp: RateLimiterAbstract | null;

  constructor(
    private readonly store: LimiterStore,
    private readonly options: RouteLimiterOptions,
  ) {
    this.globalIp = options.ipPoints > 0 ? store.create({ name: 'global:ip', points: options.ipPoints, durationSec: options.ipPerSec }) : null;
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

  private limiterFor(route: CompiledRoute): RateLimiterAbstract | null {
    const rl = route.rateLimit;
    if (!rl) return null;
    const signature = `${route.name}|${rl.points}|${rl.durationSeconds}|${rl.by}`;
    let limiter = this.cache.get(signature);
    if (!limiter) {
      limiter = this.store.create({ name: `route:${route.name}`, points: rl.points, durationSec: rl.durationSeconds });
      this.cache.set(signature, limiter);
    }
    return limiter;
  }

  private build(policy: CompiledPolicy): PolicyLimiters {
    const byRoute = new Map<CompiledRoute, RateLimiterAbstract>();
    for (const route of [...policy.routes, ...(policy.defaultRoute ? [policy.defaultRoute] : [])]) {
      const limiter = this.limiterFor(route);
      if (limiter) byRoute.set(route, limiter);
    }
    const globalIp = this.globalIp;
    const onError = this.options.onError;
    return {
      async check(route, identity, clientIp) {
        const outcomes: RateLimitOutcome[] = [];
        if (globalIp) {
          const o = await consumePoint(globalIp, rateLimitKey('ip', null, clientIp), onError);
          if (!o.allowed) return { outcome: o, refusedBy: 'global-ip' };
          outcomes.push(o);
        }
        const limiter = route ? byRoute.get(route) : undefined;
        if (route && limiter && route.rateLimit) {
          const o = await consumePoint(limiter, rateLimitKey(route.rateLimit.by, identity, clientIp), onError);
          if (!o.allowed) return { outcome: o, refusedBy: route.rateLimit.by };
          outcomes.push(o);
        }
        return { outcome: tightest(outcomes), refusedBy: null };
      },
    };
  }
}
