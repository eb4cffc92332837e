// Operator/administrator actions on users (SPEC §3 admin API, §7 authctl user …): list, create, roles,
// disable/enable, unlock, force logout, forced password reset, GDPR erase and export. The admin HTTP
// handlers and authctl both call this service; every action is audited with its actor.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { AppError, Errors } from '../errors.js';
import { hasPermission } from '../policy/index.js';
import { isPlausibleEmail, normalizeEmail } from '../domain/email.js';
import { toUserView, type Session, type Tenant, type User, type UserView } from '../domain/types.js';
import type { AuditAction, AuditLog } from '../audit/audit-log.js';
import type { RevocationBus } from '../revocation/revocation-bus.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { SessionRepository } from '../repositories/session.repository.js';
import type { AuthService, RequestMeta } from './auth.service.js';
import type { PasswordPolicy } from './password-policy.js';
import type { TenantDirectory } from './tenant-directory.js';

/**
 * Who is acting and over what. `tenantId: null` spans every tenant (authctl, or an admin holding
 * `admin:tenants`/`*`); otherwise objects of other tenants do not exist for the caller (404, not 403).
 */
export interface AdminScope {
  /** Audit actor: the admin's user id, or `cli:<os user>`. */
  actor: string;
  tenantId: string | null;
  meta: RequestMeta;
  /**
   * The caller's expanded permissions (admin API). When set, the caller may only grant roles, and act on
   * users, whose administrative permissions (`*`, `admin:…`) it holds itself — a `support` admin cannot
   * make anyone (itself included) `admin`, nor disable or erase an admin; application roles (viewer,
   * editor…) stay assignable. Undefined = the installation's operator (authctl): unrestricted.
   */
  permissions?: ReadonlySet<string>;
}

/** The role side of policies.yaml: which roles exist and what they grant. */
export interface RolePolicy {
  roles: ReadonlySet<string>;
  permissionsFor(roles: readonly string[]): ReadonlySet<string>;
}

/** Issues a password-reset link for a user: core/services/password-reset.service.ts fits this shape. */
export interface PasswordResetIssuer {
  /** Mails the link, or (print) returns it without mailing. */
  requestForUser(user: User, options: { print: boolean; actor?: string }): Promise<{ link?: string; sent: boolean; expiresAt: Date }>;
}

/** The audit trail's GDPR side (core/audit/audit-query.ts provides it through an adapter). */
export interface AuditTrail {
  /** Every event whose actor or target is the user, oldest first. */
  eventsOf(userId: string): Promise<unknown[]>;
  /** Clears ip, user agent and personal fields of the user's rows; ids, actions and the chain stay. */
  erasePersonalData(userId: string): Promise<number>;
}

export interface UserAdminDeps {
  users: UserRepository;
  sessions: SessionRepository;
  tenants: TenantDirectory;
  auth: AuthService;
  passwordPolicy: PasswordPolicy;
  revocation: RevocationBus;
  audit: AuditLog;
  clock: Clock;
  defaultRole: string;
  /** policies.yaml `roles:`; roles given to users must be among them. */
  rolePolicy: () => Promise<RolePolicy>;
  passwordReset?: PasswordResetIssuer;
  auditTrail?: AuditTrail;
  /** The login brute-force counters (core/ratelimit/login-guard.ts), cleared on unlock. */
  loginCounters?: { forget(email: string, tenant: string): Promise<void> } | null;
}

export interface UserListQuery {
  tenant?: string;
  role?: string;
  disabled?: boolean;
  /** Email prefix. */
  q?: string;
  cursor?: string;
  limit: number;
}

export interface UserPage {
  items: UserView[];
  next_cursor: string | null;
}

export interface CreateUserInput {
  email: string;
  username: string;
  password?: string;
  roles?: string[];
  tenant?: string;
}

export interface AdminSessionView {
  id: string;
  user_id: string;
  tenant: string;
  created_at: string;
  last_used_at: string;
  idle_expires_at: string;
  absolute_expires_at: string;
  ip: string | null;
  user_agent: string | null;
  client_id: string | null;
  revoked_at: string | null;
  revoked_reason: string | null;
  active: boolean;
}

export interface UserExport {
  exported_at: string;
  user: UserView & {
    email_verified_at: string | null;
    disabled_at: string | null;
    locked_until: string | null;
    failed_login_count: number;
    password_changed_at: string | null;
    updated_at: string;
    has_password: boolean;
  };
  sessions: AdminSessionView[];
  /** Absent when no audit store with a query API is configured (events then live only in the logs). */
  audit_events?: unknown[];
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else cannot exist (and PostgreSQL would reject it as uuid input). */
export const isUuid = (value: string): boolean => UUID.test(value);

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toAdminSessionView(s: Session, tenantSlug: string, now: number): AdminSessionView {
  return {
    id: s.id,
    user_id: s.userId,
    tenant: tenantSlug,
    created_at: s.createdAt.toISOString(),
    last_used_at: s.lastUsedAt.toISOString(),
    idle_expires_at: s.idleExpiresAt.toISOString(),
    absolute_expires_at: s.absoluteExpiresAt.toISOString(),
    ip: s.ip,
    user_agent: s.userAgent,
    client_id: s.clientId,
    revoked_at: iso(s.revokedAt),
    revoked_reason: s.revokedReason,
    active: s.revokedAt === null && s.idleExpiresAt.getTime() > now && s.absoluteExpiresAt.getTime() > now,
  };
}

/** Opaque cursor: base64url of [created_at ms, id] of the last item returned. */
export function encodeCursor(user: User): string {
  return Buffer.from(JSON.stringify([user.createdAt.getTime(), user.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && isUuid(value[1]))
      return { createdAt: new Date(value[0] as number), id: value[1] };
  } catch {
    // fall through
  }
  throw Errors.validation([{ field: 'cursor', message: 'is not a cursor returned by this API' }]);
}

export class UserAdminService {
  constructor(private readonly d: UserAdminDeps) {}

  private now(): Date {
    return new Date(this.d.clock.now());
  }

  private view(user: User): UserView {
    return toUserView(user, this.d.clock.now());
  }

  private async audit(scope: AdminScope, action: AuditAction, user: Pick<User, 'id' | 'tenantSlug'>, details?: Record<string, unknown>): Promise<void> {
    await this.d.audit.record({
      action,
      actor: scope.actor,
      tenant: user.tenantSlug,
      target: user.id,
      outcome: 'success',
      ip: scope.meta.ip,
      userAgent: scope.meta.userAgent,
      ...(details ? { details } : {}),
    });
  }

  /** A tenant named by slug, as the scope sees it: out-of-scope and unknown look the same. */
  async tenantInScope(scope: AdminScope, slug: string | undefined, field = 'tenant'): Promise<Tenant> {
    if (slug === undefined && scope.tenantId) {
      const own = await this.d.tenants.findById(scope.tenantId);
      if (own) return own;
    }
    const tenant = slug === undefined ? await this.d.tenants.resolve(undefined) : await this.d.tenants.findBySlug(slug);
    if (!tenant || (scope.tenantId && tenant.id !== scope.tenantId)) throw Errors.validation([{ field, message: 'unknown tenant' }]);
    return tenant;
  }

  /** The user with this id, if the scope can see it; otherwise 404. */
  async get(scope: AdminScope, id: string): Promise<User> {
    if (!isUuid(id)) throw Errors.notFound('User');
    const user = scope.tenantId ? await this.d.users.findById(scope.tenantId, id) : await this.d.users.findByIdAnyTenant(id);
    if (!user) throw Errors.notFound('User');
    return user;
  }

  /**
   * authctl's USER argument: an id or an email. An email may exist in several tenants; then the
   * operator must say which (`--tenant`), and the error lists them.
   */
  async resolve(scope: AdminScope, ref: string, tenantSlug?: string): Promise<User> {
    if (isUuid(ref)) {
      const user = await this.get(scope, ref);
      if (tenantSlug !== undefined && user.tenantSlug !== tenantSlug) throw Errors.notFound('User');
      return user;
    }
    const email = normalizeEmail(ref);
    if (tenantSlug !== undefined) {
      const tenant = await this.d.tenants.findBySlug(tenantSlug);
      const user = tenant && (!scope.tenantId || tenant.id === scope.tenantId) ? await this.d.users.findByEmail(tenant.id, email) : null;
      if (!user) throw Errors.notFound('User');
      return user;
    }
    const matches = (await this.d.users.findByEmailAnyTenant(email)).filter((u) => !scope.tenantId || u.tenantId === scope.tenantId);
    if (matches.length === 0) throw Errors.notFound('User');
    if (matches.length > 1) {
      const tenants = matches.map((u) => u.tenantSlug).sort();
      throw new AppError('ERR_AMBIGUOUS_USER', 400, 'Ambiguous user', {
        detail: `${email} exists in several tenants (${tenants.join(', ')}); name one with --tenant.`,
        extra: { tenants },
      });
    }
    return matches[0]!;
  }

  async list(scope: AdminScope, query: UserListQuery): Promise<UserPage> {
    const tenant = query.tenant !== undefined || scope.tenantId ? await this.tenantInScope(scope, query.tenant) : null;
    const limit = Math.max(1, Math.min(query.limit, 500));
    const users = await this.d.users.list({
      ...(tenant ? { tenantId: tenant.id } : {}),
      ...(query.role ? { role: query.role } : {}),
      ...(query.disabled !== undefined ? { disabled: query.disabled } : {}),
      ...(query.q ? { emailPrefix: normalizeEmail(query.q) } : {}),
      ...(query.cursor ? { after: decodeCursor(query.cursor) } : {}),
      limit,
    });
    const page = users.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map((u) => this.view(u)), next_cursor: users.length > limit && last ? encodeCursor(last) : null };
  }

  /** Unknown roles are a validation error naming the known ones (policies.yaml `roles:` is the source). */
  private async checkRoles(roles: readonly string[], field = 'roles'): Promise<string[]> {
    const known = (await this.d.rolePolicy()).roles;
    const unique = [...new Set(roles.map((r) => r.trim()))];
    // The configured default role is what self-registration hands out anyway, defined in the policy or not.
    const unknown = unique.filter((r) => !known.has(r) && r !== this.d.defaultRole);
    if (unknown.length > 0) {
      const list = [...known].sort().join(', ') || '(none defined)';
      throw new AppError('ERR_UNKNOWN_ROLE', 400, 'Invalid request', {
        detail: `Unknown role${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known roles: ${list}.`,
        errors: unknown.map((r) => ({ field, message: `unknown role "${r}" (known: ${list})` })),
        extra: { known_roles: [...known].sort() },
      });
    }
    return unique;
  }

  /**
   * Privilege-escalation guard for the admin API: every administrative permission (`*`, `admin:…`) the
   * roles grant must be held by the caller (wildcards compare as in the policy). Operators (no
   * `permissions` in scope) are unrestricted.
   */
  private async assertCovered(scope: AdminScope, roles: readonly string[], what: string): Promise<void> {
    if (!scope.permissions) return;
    const granted = (await this.d.rolePolicy()).permissionsFor(roles);
    const administrative = [...granted].filter((p) => p === '*' || p === 'admin' || p.startsWith('admin:'));
    const missing = administrative.filter((p) => !hasPermission(scope.permissions!, p));
    if (missing.length > 0)
      throw Errors.forbidden(`${what} needs permissions you do not hold: ${missing.sort().join(', ')}.`, 'ERR_PRIVILEGE_ESCALATION');
  }

  /** A user the scope may change: visible (else 404) and not more privileged than the caller (else 403). */
  private async manageable(scope: AdminScope, id: string): Promise<User> {
    const user = await this.get(scope, id);
    await this.assertCovered(scope, user.roles, 'Acting on this user');
    return user;
  }

  async create(scope: AdminScope, input: CreateUserInput): Promise<User> {
    const email = normalizeEmail(input.email);
    const username = input.username.trim().normalize('NFC');
    const errors = [];
    if (!isPlausibleEmail(email)) errors.push({ field: 'email', message: 'must be a valid email address' });
    if (!USERNAME.test(username)) errors.push({ field: 'username', message: 'must be 3-64 characters: letters, digits, ".", "_" or "-"' });
    if (input.password !== undefined) errors.push(...this.d.passwordPolicy.check(input.password, { email, username }));
    if (errors.length) throw Errors.validation(errors);
    const roles = await this.checkRoles(input.roles && input.roles.length > 0 ? input.roles : [this.d.defaultRole]);
    await this.assertCovered(scope, roles, 'Granting these roles');
    const tenant = await this.tenantInScope(scope, input.tenant);
    if (tenant.disabledAt) throw Errors.validation([{ field: 'tenant', message: 'tenant is disabled' }]);
    if (await this.d.users.findByEmail(tenant.id, email)) throw Errors.conflict('An account with this email already exists.', 'ERR_EMAIL_TAKEN');
    let user: User;
    try {
      user = await this.d.users.create({ tenantId: tenant.id, email, username, passwordHash: null, roles }, this.now());
    } catch (err) {
      if ((err as AppError).code === 'ERR_ALREADY_EXISTS') throw Errors.conflict('An account with this email or username already exists.', 'ERR_EMAIL_TAKEN');
      throw err;
    }
    // setPassword applies the same policy/history/hash path as change and reset (already checked above).
    if (input.password !== undefined) await this.d.auth.setPassword(tenant.id, user, input.password, 'password');
    await this.audit(scope, 'admin.user.created', user, { roles, with_password: input.password !== undefined });
    return (await this.d.users.findById(tenant.id, user.id)) ?? user;
  }

  async setRoles(scope: AdminScope, id: string, roles: readonly string[]): Promise<User> {
    const user = await this.manageable(scope, id);
    const next = await this.checkRoles(roles);
    await this.assertCovered(scope, next, 'Granting these roles');
    const updated = await this.d.users.update(user.tenantId, user.id, { roles: next }, this.now());
    if (!updated) throw Errors.notFound('User');
    // Access tokens carry roles; the change applies at the next refresh (at most one access-token TTL).
    await this.audit(scope, 'admin.user.roles_changed', user, { from: user.roles, to: next });
    return updated;
  }

  /** Disables the account, revokes every session and announces the user revocation (live tokens die). */
  async disable(scope: AdminScope, id: string): Promise<User> {
    const user = await this.manageable(scope, id);
    if (user.disabledAt) return user;
    const at = this.now();
    const updated = await this.d.users.update(user.tenantId, user.id, { disabledAt: at }, at);
    const refs = await this.d.sessions.revokeAllForUser(user.tenantId, user.id, 'user_disabled', at);
    await this.d.auth.announce(refs, 'user_disabled', user.tenantSlug);
    await this.d.revocation.publish([{ kind: 'user', id: user.id, at: at.getTime(), reason: 'user_disabled' }]);
    await this.audit(scope, 'admin.user.disabled', user, { sessions_revoked: refs.length });
    return updated ?? { ...user, disabledAt: at };
  }

  async enable(scope: AdminScope, id: string): Promise<User> {
    const user = await this.manageable(scope, id);
    if (!user.disabledAt) return user;
    const updated = await this.d.users.update(user.tenantId, user.id, { disabledAt: null }, this.now());
    await this.audit(scope, 'admin.user.enabled', user);
    return updated ?? { ...user, disabledAt: null };
  }

  /** Clears the lockout (SPEC §6: `authctl user unlock`). */
  async unlock(scope: AdminScope, id: string): Promise<User> {
    const user = await this.manageable(scope, id);
    const updated = await this.d.users.update(user.tenantId, user.id, { lockedUntil: null, failedLoginCount: 0 }, this.now());
    // Also forget the (account, IP) brute-force counters, or the unlocked user stays throttled.
    await this.d.loginCounters?.forget(user.email, user.tenantSlug);
    await this.audit(scope, 'admin.user.unlocked', user, { was_locked: user.lockedUntil !== null && user.lockedUntil > this.now() });
    return updated ?? user;
  }

  /** Revokes every session of the user (force logout). Returns how many were live. */
  async logout(scope: AdminScope, id: string): Promise<number> {
    const user = await this.manageable(scope, id);
    const count = await this.d.auth.revokeAllSessions(user.tenantId, user.id, 'admin', scope.actor, scope.meta);
    await this.audit(scope, 'admin.user.logout', user, { sessions_revoked: count });
    return count;
  }

  /** Starts a forced password reset: the reset service mails the link, or returns it when `print`. */
  async passwordReset(scope: AdminScope, id: string, options: { print?: boolean } = {}): Promise<{ user: User; sent: boolean; link?: string; expires_at: string }> {
    const user = await this.manageable(scope, id);
    const issuer = this.d.passwordReset;
    if (!issuer)
      throw new AppError('ERR_NOT_IMPLEMENTED', 501, 'Not implemented', {
        detail: 'Password reset is not available: the password-reset service is not configured in this build.',
      });
    if (user.disabledAt) throw Errors.conflict('The account is disabled; enable it first.', 'ERR_USER_DISABLED');
    const issued = await issuer.requestForUser(user, { print: options.print === true, actor: scope.actor });
    await this.audit(scope, 'admin.user.password_reset', user, { delivery: options.print ? 'printed' : 'mailed' });
    return { user, sent: issued.sent, ...(issued.link ? { link: issued.link } : {}), expires_at: issued.expiresAt.toISOString() };
  }

  /**
   * GDPR erase (Art. 17): revoke and delete every session and refresh token, then wipe email, username,
   * hash and roles from the row. The row itself stays so audit rows that name its id keep pointing at a
   * pseudonym, never at personal data.
   */
  async delete(scope: AdminScope, id: string): Promise<void> {
    const user = await this.manageable(scope, id);
    const at = this.now();
    const refs = await this.d.sessions.revokeAllForUser(user.tenantId, user.id, 'user_deleted', at);
    await this.d.auth.announce(refs, 'user_deleted', user.tenantSlug);
    await this.d.revocation.publish([{ kind: 'user', id: user.id, at: at.getTime(), reason: 'user_deleted' }]);
    await this.d.sessions.deleteForUser(user.tenantId, user.id);
    if (!(await this.d.users.erase(user.tenantId, user.id, at))) throw Errors.notFound('User');
    await this.audit(scope, 'user.deleted', user, { sessions_revoked: refs.length, erasure_id: randomUUID() });
    // Audit rows keep ids and actions (the chain stays verifiable) but lose ip/user agent/personal fields.
    await this.d.auditTrail?.erasePersonalData(user.id);
  }

  /** GDPR export (Art. 15/20): everything held about the user, as JSON. */
  async export(scope: AdminScope, id: string): Promise<UserExport> {
    const user = await this.get(scope, id);
    const withSecret = await this.d.users.findByIdWithSecret(user.tenantId, user.id);
    const now = this.d.clock.now();
    const sessions = await this.d.sessions.listForUser(user.tenantId, user.id);
    const out: UserExport = {
      exported_at: new Date(now).toISOString(),
      user: {
        ...this.view(user),
        email_verified_at: iso(user.emailVerifiedAt),
        disabled_at: iso(user.disabledAt),
        locked_until: iso(user.lockedUntil),
        failed_login_count: user.failedLoginCount,
        password_changed_at: iso(user.passwordChangedAt),
        updated_at: user.updatedAt.toISOString(),
        // The hash itself is a secret derived from the password; its existence is the personal fact.
        has_password: Boolean(withSecret?.passwordHash),
      },
      sessions: sessions.map((s) => toAdminSessionView(s, user.tenantSlug, now)),
      ...(this.d.auditTrail ? { audit_events: await this.d.auditTrail.eventsOf(user.id) } : {}),
    };
    await this.audit(scope, 'admin.user.exported', user);
    return out;
  }

  /** Applies a PATCH `{roles?, disabled?}`; the handler has already refused any other field. */
  async patch(scope: AdminScope, id: string, patch: { roles?: string[]; disabled?: boolean }): Promise<User> {
    let user = await this.get(scope, id);
    if (patch.roles !== undefined) user = await this.setRoles(scope, id, patch.roles);
    if (patch.disabled === true) user = await this.disable(scope, id);
    if (patch.disabled === false) user = await this.enable(scope, id);
    return user;
  }
}
