// Builds rate-limiter-flexible limiters on one backend: RateLimiterRedis (counters shared by every
// replica) when Redis is configured, RateLimiterMemory otherwise. Each Redis limiter carries an in-memory
// insurance limiter so requests keep being served (and still limited, per process) while Redis is down.
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis.js';

export interface LimiterSpec {
  /** Unique per purpose (route name, `login:ip`, …); part of the key prefix. */
  name: string;
  points: number;
  durationSec: number;
  /** Block the key this long once points are exceeded (0: only until the window ends). */
  blockDurationSec?: number;
}

export type FallbackListener = (active: boolean) => void;

export interface LimiterStoreOptions {
  /** A client from core/redis.ts built with enableOfflineQueue: false, or null for memory. */
  redis: RedisClient | null;
  prefix: string;
  logger: Logger;
}

/** rate-limiter-flexible wants whole seconds; a window of 0 would mean "never expires". */
const wholeSeconds = (s: number): number => Math.max(1, Math.ceil(s));
/**
 * RateLimiterMemory expires keys with setTimeout, which overflows above 2^31 ms (24.8 days) and then
 * fires after 1 ms: a longer window would silently count nothing. Memory windows are capped below that.
 */
const MAX_MEMORY_SECONDS = 24 * 86_400;

export class LimiterStore {
  readonly backend: 'redis' | 'memory';
  private fallbackActive = false;
  private readonly listeners = new Set<FallbackListener>();
  private readonly redis: RedisClient | null;

  constructor(private readonly options: LimiterStoreOptions) {
    this.redis = options.redis;
    this.backend = this.redis ? 'redis' : 'memory';
    if (this.redis) {
      const client = this.redis;
      // With rejectIfRedisNotReady the limiter goes straight to the insurance limiter whenever the client is
      // not 'ready', so the client's connection state is exactly "which limiter answers".
      this.fallbackActive = client.status !== 'ready';
      client.on('ready', () => this.setFallback(false));
      client.on('close', () => this.setFallback(true));
      client.on('end', () => this.setFallback(true));
    }
  }

  /** True while Redis is configured but unreachable and the in-memory insurance limiters answer. */
  get fallback(): boolean {
    return this.fallbackActive;
  }

  /** Subscribes to fallback changes (the server mirrors them into the authgate_rate_limiter_fallback gauge). */
  onFallbackChange(listener: FallbackListener): () => void {
    this.listeners.add(listener);
    listener(this.fallbackActive);
    return () => this.listeners.delete(listener);
  }

  private setFallback(active: boolean): void {
    if (active === this.fallbackActive) return;
    this.fallbackActive = active;
    if (active) this.options.logger.warn({ component: 'ratelimit' }, 'redis unreachable: rate limits fall back to per-process memory');
    else this.options.logger.info({ component: 'ratelimit' }, 'redis reachable again: rate limits shared through redis');
    for (const l of this.listeners) l(active);
  }

  create(spec: LimiterSpec): RateLimiterAbstract {
    const base = {
      points: spec.points,
      duration: wholeSeconds(spec.durationSec),
      blockDuration: spec.blockDurationSec ? wholeSeconds(spec.blockDurationSec) : 0,
    };
    const memory = { ...base, duration: Math.min(base.duration, MAX_MEMORY_SECONDS), blockDuration: Math.min(base.blockDuration, MAX_MEMORY_SECONDS) };
    if (!this.redis) return new RateLimiterMemory({ ...memory, keyPrefix: spec.name });
    return new RateLimiterRedis({
      ...base,
      storeClient: this.redis,
      keyPrefix: `${this.options.prefix}:${spec.name}`,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ ...memory, keyPrefix: `insurance:${spec.name}` }),
    });
  }

  /** Readiness: Redis answers PING (always true for the memory backend). */
  async ping(): Promise<boolean> {
    if (!this.redis) return true;
    if (this.redis.status !== 'ready') return false;
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }
}
