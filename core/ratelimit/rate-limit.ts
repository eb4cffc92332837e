// One rate-limit decision: consume a point, turn rate-limiter-flexible's answer into an outcome, and the
// RateLimit-* / Retry-After headers (draft-ietf-httpapi-ratelimit-headers; RFC 9110 §10.2.3).
import { RateLimiterRes } from 'rate-limiter-flexible';
import { Errors, type AppError } from '../errors.js';
import type { PointConsumer } from './batched-consume.js';

export interface RateLimitOutcome {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Whole seconds until the window resets (delta seconds, never below 0). */
  readonly resetSec: number;
}

/**
 * Consumes one point. A limiter that fails with a real error (both Redis and insurance unavailable, which
 * should not happen) fails open: availability of the proxied service wins over counting one request.
 */
export async function consumePoint(limiter: PointConsumer, key: string, onError?: (err: unknown) => void): Promise<RateLimitOutcome> {
  const limit = limiter.points;
  try {
    const res = await limiter.consume(key, 1);
    return { allowed: true, limit, remaining: res.remainingPoints, resetSec: Math.max(0, Math.ceil(res.msBeforeNext / 1000)) };
  } catch (err) {
    if (err instanceof RateLimiterRes)
      return { allowed: false, limit, remaining: 0, resetSec: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
    onError?.(err);
    return { allowed: true, limit, remaining: limit, resetSec: 0 };
  }
}

/** Of several limits that applied, the one to advertise: a refusal, else the one closest to exhaustion. */
export function tightest(outcomes: readonly RateLimitOutcome[]): RateLimitOutcome | null {
  let best: RateLimitOutcome | null = null;
  for (const o of outcomes) {
    if (!best) best = o;
    else if (!o.allowed && best.allowed) best = o;
    else if (o.allowed === best.allowed && (o.remaining < best.remaining || (o.remaining === best.remaining && o.resetSec > best.resetSec))) best = o;
  }
  return best;
}

export function rateLimitHeaders(o: RateLimitOutcome): Record<string, string> {
  return {
    'ratelimit-limit': String(o.limit),
    'ratelimit-remaining': String(o.remaining),
    'ratelimit-reset': String(o.resetSec),
  };
}

/** The 429 problem for a refused outcome, with Retry-After and the RateLimit-* headers. */
export function rateLimitError(o: RateLimitOutcome): AppError {
  return Errors.rateLimited(o.resetSec, rateLimitHeaders(o));
}
