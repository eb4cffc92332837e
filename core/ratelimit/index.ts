// Builds every rate limit of one process from the config: the limiter store (Redis + insurance, or
// memory), per-route limiters, auth endpoint limits and the login brute-force guard.
import type { Config } from '../../config/config.schema.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis.js';
import { AuthEndpointLimits } from './auth-endpoint-limits.js';
import { LimiterStore } from './limiter-store.js';
import { BruteForceLoginGuard } from './login-guard.js';
import { RouteLimiterRegistry } from './route-limiters.js';

export { ipBucket, rateLimitKey, type RateLimitIdentity } from './rate-limit-key.js';
export { rateLimitError, rateLimitHeaders, type RateLimitOutcome } from './rate-limit.js';
export { authEndpointGroup } from './auth-endpoint-limits.js';
export type { LimiterStore } from './limiter-store.js';
export type { PolicyLimiters, RouteLimitDecision } from './route-limiters.js';

export interface RateLimits {
  readonly store: LimiterStore;
  readonly routes: RouteLimiterRegistry;
  readonly authEndpoints: AuthEndpointLimits;
  readonly loginGuard: BruteForceLoginGuard;
}

export function createRateLimits(config: Config, redis: RedisClient | null, logger: Logger): RateLimits {
  const log = logger.child({ component: 'ratelimit' });
  const prefix = config.redis.rate_limit_prefix;
  const store = new LimiterStore({ redis, prefix, logger: log });
  const onError = (err: unknown) => log.warn({ err }, 'rate limiter failed; request allowed');
  const s = config.security;
  return {
    store,
    routes: new RouteLimiterRegistry(store, { ipPoints: s.rate_limit_ip_points, ipPerSec: s.rate_limit_ip_per / 1000, onError }),
    authEndpoints: new AuthEndpointLimits(store, config.server.auth_prefix, { points: s.rate_limit_auth_points, perSec: s.rate_limit_auth_per / 1000 }, onError),
    loginGuard: new BruteForceLoginGuard(
      store,
      { ipMaxFailuresPerDay: s.login_ip_max_failures, accountIpMaxFailures: s.login_account_ip_max_failures, slowAfter: s.login_slow_after },
      redis ? { client: redis, prefix } : null,
      log,
    ),
  };
}

/** Waits until the client is ready or `ms` passes; start-up continues either way (in fallback mode). */
export async function waitForRedis(client: RedisClient, ms: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    client.once('ready', onReady);
  });
}
