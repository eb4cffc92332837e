// Abuse limits of the email request endpoints: per client IP (answered with 429, which says nothing
// about any account) and per account (silently not sending: the answer stays 202, so the limit cannot
// be used to probe whether an account exists). Limiters come from the shared store in core/ratelimit
// (Redis-backed and shared by every replica when REDIS_URL is set) or, standalone, from memory.
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { Errors } from '../errors.js';

export interface SendLimitSettings {
  perAccountPerHour: number;
  perIpPerHour: number;
}

export type LimiterFactory = (spec: { name: string; points: number; durationSec: number }) => RateLimiterAbstract;

const memoryLimiter: LimiterFactory = (spec) => new RateLimiterMemory({ keyPrefix: spec.name, points: spec.points, duration: spec.durationSec });

export class SendLimits {
  private readonly account: RateLimiterAbstract;
  private readonly ip: RateLimiterAbstract;

  constructor(
    settings: SendLimitSettings,
    create: LimiterFactory = memoryLimiter,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.account = create({ name: 'mail_account', points: settings.perAccountPerHour, durationSec: 3600 });
    this.ip = create({ name: 'mail_request_ip', points: settings.perIpPerHour, durationSec: 3600 });
  }

  /** Throws 429 (with Retry-After) when this IP asked too often. A failing limiter allows (logged). */
  async checkIp(route: string, ip: string | null): Promise<void> {
    if (!ip) return;
    try {
      await this.ip.consume(`${route}:${ip}`);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw Errors.rateLimited(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
      this.onError(res);
    }
  }

  /** True when another mail of this purpose may go to this account within the hour. */
  async accountAllows(purpose: string, userId: string): Promise<boolean> {
    try {
      await this.account.consume(`${purpose}:${userId}`);
      return true;
    } catch (res) {
      if (res instanceof RateLimiterRes) return false;
      this.onError(res);
      return true;
    }
  }
}
