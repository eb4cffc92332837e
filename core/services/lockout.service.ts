// Unlocking an account (SPEC §6 `authctl user unlock`, admin API unlock): clears the database lockout
// (locked_until, failed_login_count) and the login brute-force counters, and records `auth.unlock`.
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { RequestMeta } from './auth.service.js';

/** The part of the login guard an unlock needs (core/ratelimit/login-guard.ts). */
export interface LoginCounters {
  forget(email: string, tenant: string): Promise<void>;
}

export interface LockoutServiceDeps {
  users: UserRepository;
  audit: AuditLog;
  clock: Clock;
  loginCounters: LoginCounters | null;
}

export class LockoutService {
  constructor(private readonly d: LockoutServiceDeps) {}

  /** Returns false when the user does not exist in the tenant. `actor` is the admin's id or `cli:<user>`. */
  async unlock(tenantId: string, userId: string, actor: string, meta: RequestMeta = { ip: null, userAgent: null }): Promise<boolean> {
    const at = new Date(this.d.clock.now());
    const user = await this.d.users.findById(tenantId, userId);
    if (!user) return false;
    const wasLocked = user.lockedUntil !== null && user.lockedUntil > at;
    await this.d.users.update(tenantId, userId, { lockedUntil: null, failedLoginCount: 0 }, at);
    await this.d.loginCounters?.forget(user.email, user.tenantSlug);
    await this.d.audit.record({
      action: 'auth.unlock',
      actor,
      tenant: user.tenantSlug,
      target: user.id,
      outcome: 'success',
      ip: meta.ip,
      userAgent: meta.userAgent,
      details: { was_locked: wasLocked, failures: user.failedLoginCount },
    });
    return true;
  }
}
