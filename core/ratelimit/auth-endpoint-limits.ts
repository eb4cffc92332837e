// Per-IP request limits on authgate's sensitive endpoints (login, refresh, register, password reset,
// email verification): one limiter per endpoint group, so a registration flood does not block logins.
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimiterStore } from './limiter-store.js';
import { consumePoint, type RateLimitOutcome } from './rate-limit.js';
import { rateLimitKey } from './rate-limit-key.js';

export const AUTH_ENDPOINT_GROUPS = ['login', 'refresh', 'register', 'password-reset', 'verify-email'] as const;
export type AuthEndpointGroup = (typeof AUTH_ENDPOINT_GROUPS)[number];

/** Which group a path under the auth prefix belongs to, or null when it is not limited here. */
export function authEndpointGroup(prefix: string, path: string): AuthEndpointGroup | null {
  if (!path.startsWith(`${prefix}/`)) return null;
  const rest = path.slice(prefix.length + 1);
  if (rest === 'login') return 'login';
  if (rest === 'refresh') return 'refresh';
  if (rest === 'register') return 'register';
  if (rest.startsWith('password-reset/')) return 'password-reset';
  if (rest === 'verify-email' || rest.startsWith('verify-email/')) return 'verify-email';
  return null;
}

export class AuthEndpointLimits {
  private readonly limiters = new Map<AuthEndpointGroup, RateLimiterAbstract>();

  constructor(
    store: LimiterStore,
    private readonly prefix: string,
    settings: { points: number; perSec: number },
    private readonly onError?: (err: unknown) => void,
  ) {
    if (settings.points > 0)
      for (const g of AUTH_ENDPOINT_GROUPS) this.limiters.set(g, store.create({ name: `auth:${g}`, points: settings.points, durationSec: settings.perSec }));
  }

  /** Counts the request; null when the path is not a limited auth endpoint (or limits are disabled). */
  async check(path: string, clientIp: string | null): Promise<RateLimitOutcome | null> {
    const group = authEndpointGroup(this.prefix, path);
    const limiter = group ? this.limiters.get(group) : undefined;
    if (!limiter) return null;
    return consumePoint(limiter, rateLimitKey('ip', null, clientIp), this.onError);
  }
}
