// Login brute-force protection with rate-limiter-flexible's "login endpoint protection" pattern:
// failures per IP per day, consecutive failures per (account, IP) that first slow the caller down
// (growing waits) and then block it; success clears the (account, IP) counters. 429 with Retry-After.
import { createHash } from 'node:crypto';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { Errors } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis.js';
import type { LoginGuard } from '../services/auth.service.js';
import type { LimiterStore } from './limiter-store.js';
import { ipBucket } from './rate-limit-key.js';

export interface LoginGuardSettings {
  /** Failed logins per IP (any account) per day before the IP is blocked for the rest of the day. */
  ipMaxFailuresPerDay: number;
  /** Consecutive failures per (account, IP) before that pair is blocked for `blockSec`. */
  accountIpMaxFailures: number;
  /** From this many consecutive failures on, each further failure imposes a wait of 1, 2, 4 … s. */
  slowAfter: number;
  maxWaitSec?: number;
  blockSec?: number;
}

const DAY = 86_400;
/** Consecutive failures are remembered a week without a success (RateLimiterMemory timers cap windows at 24.8 days). */
const CONSECUTIVE_WINDOW = 7 * DAY;
/** Bound on remembered (account → IPs) pairs used by forget(); oldest accounts are dropped first. */
const MAX_TRACKED_ACCOUNTS = 10_000;
const MAX_IPS_PER_ACCOUNT = 64;

/** Email and tenant become an opaque hash: no personal data in Redis keys. */
function accountKey(email: string, tenant: string): string {
  return createHash('sha256').update(`${tenant}\0${email}`).digest('hex').slice(0, 32);
}

async function consumed(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes | null> {
  return limiter.get(key);
}

export class BruteForceLoginGuard implements LoginGuard {
  private readonly ipDay: RateLimiterAbstract;
  private readonly accountIp: RateLimiterAbstract;
  private readonly wait: RateLimiterAbstract;
  private readonly maxWaitSec: number;
  private readonly blockSec: number;
  /** account → IP buckets with failures, so an unlock can clear them (the limiters cannot be enumerated). */
  private readonly seen = new Map<string, Set<string>>();

  constructor(
    store: LimiterStore,
    private readonly settings: LoginGuardSettings,
    private readonly redis: { client: RedisClient; prefix: string } | null,
    private readonly logger: Logger,
  ) {
    this.maxWaitSec = settings.maxWaitSec ?? 60;
    this.blockSec = settings.blockSec ?? 3600;
    this.ipDay = store.create({ name: 'login:ip-day', points: settings.ipMaxFailuresPerDay, durationSec: DAY });
    this.accountIp = store.create({ name: 'login:account-ip', points: settings.accountIpMaxFailures, durationSec: CONSECUTIVE_WINDOW });
    // Used only through block(): a blocked key reads as points + 1 consumed until the wait is over.
    this.wait = store.create({ name: 'login:wait', points: 1, durationSec: 1 });
  }

  async check(email: string, tenant: string, ip: string | null): Promise<void> {
    const ipKey = ipBucket(ip);
    const pair = `${accountKey(email, tenant)}:${ipKey}`;
    const [day, consecutive, waiting] = await Promise.all([consumed(this.ipDay, ipKey), consumed(this.accountIp, pair), consumed(this.wait, pair)]);
    let retryMs = 0;
    if (day && day.consumedPoints >= this.settings.ipMaxFailuresPerDay) retryMs = Math.max(retryMs, day.msBeforeNext);
    if (consecutive && consecutive.consumedPoints >= this.settings.accountIpMaxFailures) retryMs = Math.max(retryMs, consecutive.msBeforeNext);
    if (waiting && waiting.consumedPoints > 1) retryMs = Math.max(retryMs, waiting.msBeforeNext);
    if (retryMs > 0) throw Errors.rateLimited(retryMs / 1000);
  }

  async failed(email: string, tenant: string, ip: string | null): Promise<void> {
    const ipKey = ipBucket(ip);
    const account = accountKey(email, tenant);
    const pair = `${account}:${ipKey}`;
    this.track(account, ipKey);
    const [, res] = await Promise.all([swallow(this.ipDay.consume(ipKey)), swallow(this.accountIp.consume(pair))]);
    const n = res?.consumedPoints ?? 0;
    if (n >= this.settings.accountIpMaxFailures) await swallow(this.accountIp.block(pair, this.blockSec));
    else if (n >= this.settings.slowAfter) await swallow(this.wait.block(pair, Math.min(2 ** (n - this.settings.slowAfter), this.maxWaitSec)));
  }

  async succeeded(email: string, tenant: string, ip: string | null): Promise<void> {
    const pair = `${accountKey(email, tenant)}:${ipBucket(ip)}`;
    await Promise.all([swallow(this.accountIp.delete(pair)), swallow(this.wait.delete(pair))]);
  }

  /**
   * Clears the (account, IP) counters of an account (admin/CLI unlock). IPs seen by this process are
   * deleted directly; with Redis every replica's keys are found by SCAN, so an unlock from authctl works too.
   */
  async forget(email: string, tenant: string): Promise<void> {
    const account = accountKey(email, tenant);
    const ips = this.seen.get(account) ?? new Set<string>();
    this.seen.delete(account);
    await Promise.all([...ips].flatMap((ip) => [swallow(this.accountIp.delete(`${account}:${ip}`)), swallow(this.wait.delete(`${account}:${ip}`))]));
    if (!this.redis || this.redis.client.status !== 'ready') return;
    try {
      for (const name of ['login:account-ip', 'login:wait']) {
        const stream = this.redis.client.scanStream({ match: `${this.redis.prefix}:${name}:${account}:*`, count: 200 });
        for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await this.redis.client.del(...keys);
      }
    } catch (err) {
      this.logger.warn({ err, component: 'ratelimit' }, 'could not clear login counters in redis');
    }
  }

  private track(account: string, ip: string): void {
    let ips = this.seen.get(account);
    if (!ips) {
      if (this.seen.size >= MAX_TRACKED_ACCOUNTS) this.seen.delete(this.seen.keys().next().value!);
      ips = new Set();
      this.seen.set(account, ips);
    }
    if (ips.size < MAX_IPS_PER_ACCOUNT) ips.add(ip);
  }
}

/** Consume rejects with a RateLimiterRes when over the limit; for counting failures that is just the count. */
async function swallow<T>(p: Promise<T>): Promise<T | RateLimiterRes | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof RateLimiterRes) return err;
    return null;
  }
}
