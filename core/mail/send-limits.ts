// Abuse limits of the email request endpoints: per client IP (answered with 429, which says nothing
// about any account) and per account (silently not sending: the answer stays 202, so the limit cannot
// be used to probe whether an account exists). In-memory (rate-limiter-flexible): per instance.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { Errors } from '../errors.js';

export interface SendLimitSettings {
  perAccountPerHour: number;
  perIpPerHour: number;
}

export class SendLimits {
  private readonly account: RateLimiterMemory;
  private readonly ip: RateLimiterMemory;

  constructor(settings: SendLimitSettings) {
    this.account = new RateLimiterMemory({ keyPrefix: 'mail_account', points: settings.perAccountPerHour, duration: 3600 });
    this.ip = new RateLimiterMemory({ keyPrefix: 'mail_ip', points: settings.perIpPerHour, duration: 3600 });
  }

  /** Throws 429 (with Retry-After) when this IP asked too often. */
  async checkIp(route: string, ip: string | null): Promise<void> {
    if (!ip) return;
    try {
      await this.ip.consume(`${route}:${ip}`);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw Errors.rateLimited(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
      throw res;
    }
  }

  /** True when another mail of this purpose may go to this account within the hour. */
  async accountAllows(purpose: string, userId: string): Promise<boolean> {
    try {
      await this.account.consume(`${purpose}:${userId}`);
      return true;
    } catch (res) {
      if (res instanceof RateLimiterRes) return false;
      throw res;
    }
  }
}
