// Coalesces consumes of the same key that arrive in one event-loop turn into a single consume of N points
// on a Redis-backed limiter: one counter script per key per turn instead of one per request. Exact, not
// approximate: the store returns the running total, and each request gets its own position in it
// (the first of N sees total − N + 1), so a batch refuses exactly the requests a sequence would.
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** What consumePoint needs from a limiter (core/ratelimit/rate-limit.ts). */
export interface PointConsumer {
  readonly points: number;
  consume(key: string, points?: number): Promise<RateLimiterRes>;
}

interface Waiter {
  resolve(res: RateLimiterRes): void;
  reject(err: unknown): void;
}

export class BatchedConsumer implements PointConsumer {
  private pending = new Map<string, Waiter[]>();
  private scheduled = false;
  private readonly flush = (): void => this.run();

  constructor(private readonly limiter: RateLimiterAbstract) {}

  get points(): number {
    return this.limiter.points;
  }

  reward(key: string, points = 1): Promise<RateLimiterRes> {
    return this.limiter.reward(key, points);
  }

  consume(key: string, points = 1): Promise<RateLimiterRes> {
    if (points !== 1) return this.limiter.consume(key, points);
    return new Promise<RateLimiterRes>((resolve, reject) => {
      const list = this.pending.get(key);
      if (list === undefined) this.pending.set(key, [{ resolve, reject }]);
      else list.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the poll phase: every request read from the sockets in this turn has queued its key.
        setImmediate(this.flush);
      }
    });
  }

  private run(): void {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const [key, waiters] of batch) {
      const n = waiters.length;
      this.limiter.consume(key, n).then(
        (res) => settle(waiters, res, this.limiter.points),
        (err: unknown) => {
          // A refusal carries the running total like a success; anything else is a store error for all.
          if (err instanceof RateLimiterRes) settle(waiters, err, this.limiter.points);
          else for (const w of waiters) w.reject(err);
        },
      );
    }
  }
}

/** Gives each waiter its own place in the total: allowed while its running count is within `limit`. */
function settle(waiters: readonly Waiter[], res: RateLimiterRes, limit: number): void {
  const n = waiters.length;
  const total = res.consumedPoints;
  if (total < n) {
    // Not a running total (an in-memory block answers without counting): the same answer for everyone.
    for (const w of waiters) {
      if (total > limit || res.remainingPoints === 0) w.reject(res);
      else w.resolve(res);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const consumed = total - (n - 1 - i);
    const own = new RateLimiterRes(Math.max(0, limit - consumed), res.msBeforeNext, consumed, consumed === 1);
    if (consumed > limit) waiters[i]?.reject(own);
    else waiters[i]?.resolve(own);
  }
}
