// Operator-side session management for authctl and /admin (SPEC §3, §7): list sessions across users,
// revoke one, or revoke all of a user's. Revocations go through AuthService, which writes revoked_at,
// publishes on the revocation bus (every replica rejects the tokens within 1 s) and audits `session.revoked`.
import type { Clock } from '../clock.js';
import { Errors } from '../errors.js';
import type { RevocationReason } from '../domain/types.js';
import type { SessionRepository } from '../repositories/session.repository.js';
import type { AuthService } from './auth.service.js';
import type { TenantDirectory } from './tenant-directory.js';
import { isUuid, toAdminSessionView, type AdminScope, type AdminSessionView, type UserAdminService } from './user-admin.service.js';

export type { AdminSessionView } from './user-admin.service.js';

export interface SessionAdminDeps {
  sessions: SessionRepository;
  tenants: TenantDirectory;
  auth: AuthService;
  /** Resolves USER references (id or email) within the caller's scope. */
  users: UserAdminService;
  clock: Clock;
}

export interface SessionListQuery {
  /** User id or email (authctl `--user`). */
  user?: string;
  /** Tenant slug; needed only to disambiguate an email present in several tenants. */
  tenant?: string;
  /** Only sessions that are neither revoked nor expired (authctl `--active`). */
  active?: boolean;
  /** Default 100, at most 1000. */
  limit?: number;
}

export class SessionAdminService {
  constructor(private readonly d: SessionAdminDeps) {}

  /** Newest first; scoped to `scope.tenantId` when set. */
  async list(scope: AdminScope, query: SessionListQuery = {}): Promise<AdminSessionView[]> {
    const now = this.d.clock.now();
    const user = query.user !== undefined ? await this.d.users.resolve(scope, query.user, query.tenant) : null;
    const tenantId = user?.tenantId ?? scope.tenantId ?? (query.tenant !== undefined ? (await this.d.users.tenantInScope(scope, query.tenant)).id : undefined);
    const rows = await this.d.sessions.list({
      ...(tenantId ? { tenantId } : {}),
      ...(user ? { userId: user.id } : {}),
      ...(query.active ? { activeAt: new Date(now) } : {}),
      limit: Math.min(Math.max(query.limit ?? 100, 1), 1000),
    });
    return Promise.all(rows.map(async (s) => toAdminSessionView(s, await this.d.tenants.slugOf(s.tenantId), now)));
  }

  /**
   * Revokes one session. Returns false when it was already revoked (idempotent); an unknown id, or one
   * outside the scope's tenant, is ERR_NOT_FOUND (404) so ids of other tenants are not confirmed.
   */
  async revoke(scope: AdminScope, sessionId: string, reason: RevocationReason = 'admin'): Promise<boolean> {
    if (!isUuid(sessionId)) throw Errors.notFound('Session');
    const session = scope.tenantId
      ? await this.d.sessions.findById(scope.tenantId, sessionId)
      : await this.d.sessions.findByIdAnyTenant(sessionId);
    if (!session) throw Errors.notFound('Session');
    if (session.revokedAt) return false;
    return this.d.auth.revokeSession(session.tenantId, session.id, reason, scope.actor, scope.meta);
  }

  /** Revokes every live session of a user (id or email); returns how many were revoked. */
  async revokeForUser(scope: AdminScope, userRef: string, options: { tenant?: string; reason?: RevocationReason } = {}): Promise<number> {
    const user = await this.d.users.resolve(scope, userRef, options.tenant);
    return this.d.auth.revokeAllSessions(user.tenantId, user.id, options.reason ?? 'admin', scope.actor, scope.meta);
  }

  // --- the names in the issue brief (operator scope, no request metadata) ----------------------

  listSessions(filter: { userId?: string; tenantId?: string; active?: boolean; limit?: number } = {}): Promise<AdminSessionView[]> {
    const scope: AdminScope = { actor: 'system', tenantId: filter.tenantId ?? null, meta: { ip: null, userAgent: null } };
    return this.list(scope, {
      ...(filter.userId !== undefined ? { user: filter.userId } : {}),
      ...(filter.active !== undefined ? { active: filter.active } : {}),
      ...(filter.limit !== undefined ? { limit: filter.limit } : {}),
    });
  }

  revokeSession(sessionId: string, actor: string): Promise<boolean> {
    return this.revoke({ actor, tenantId: null, meta: { ip: null, userAgent: null } }, sessionId);
  }

  revokeUserSessions(userId: string, actor: string): Promise<number> {
    return this.revokeForUser({ actor, tenantId: null, meta: { ip: null, userAgent: null } }, userId);
  }
}
