// The auth domain: register, login, refresh rotation with reuse detection, logout, sessions, password
// change, bearer authentication. Receives its dependencies in one object (STYLE.md).
import type { Clock } from '../clock.js';
import { Errors, type AppError } from '../errors.js';
import { randomToken, sha256Hex } from '../crypto/secrets.js';
import { isPlausibleEmail, normalizeEmail } from '../domain/email.js';
import { toUserView, type RevocationReason, type Session, type User, type UserView } from '../domain/types.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { RevokedSessionRef, SessionRepository } from '../repositories/session.repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { RevocationBus } from '../revocation/revocation-bus.js';
import type { TokenService, VerifiedToken } from '../tokens/token.service.js';
import type { PasswordHasher } from './password-hasher.js';
import type { PasswordPolicy } from './password-policy.js';
import type { TenantDirectory } from './tenant-directory.js';

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface AuthContext {
  claims: VerifiedToken;
  token: string;
}

/** Login throttling (brute-force protection) plugged in by core/ratelimit; absent means none. */
export interface LoginGuard {
  /** Throws a 429 AppError when this (account, ip) or ip is blocked. */
  check(email: string, tenant: string, ip: string | null): Promise<void>;
  failed(email: string, tenant: string, ip: string | null): Promise<void>;
  succeeded(email: string, tenant: string, ip: string | null): Promise<void>;
}

/** Keeps the last N password hashes; plugged in by the password-history module when present. */
export interface PasswordHistory {
  isReused(userId: string, password: string): Promise<boolean>;
  remember(userId: string, hash: string, at: Date): Promise<void>;
}

export interface AuthServiceDeps {
  users: UserRepository;
  sessions: SessionRepository;
  tenants: TenantDirectory;
  hasher: PasswordHasher;
  passwordPolicy: PasswordPolicy;
  tokens: TokenService;
  revocation: RevocationBus;
  audit: AuditLog;
  clock: Clock;
  permissionsFor: (roles: readonly string[]) => ReadonlySet<string>;
  loginGuard?: LoginGuard;
  passwordHistory?: PasswordHistory;
  onUserRegistered?: (user: User, meta: RequestMeta) => Promise<void>;
  settings: {
    defaultRole: string;
    refreshIdleTtlMs: number;
    sessionMaxAgeMs: number;
    loginMaxFailures: number;
    lockoutDurationMs: number;
    requireVerifiedEmail: boolean;
  };
}

export interface RegisterInput {
  email: string;
  username: string;
  password: string;
  tenant?: string;
}

export interface LoginInput {
  email: string;
  password: string;
  tenant?: string;
}

export interface SessionView {
  id: string;
  created_at: string;
  last_used_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

export interface ValidateView {
  sub: string;
  email: string;
  roles: string[];
  permissions: string[];
  tenant: string;
  sid: string;
  exp: number;
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;

export class AuthService {
  constructor(private readonly d: AuthServiceDeps) {}

  private now(): Date {
    return new Date(this.d.clock.now());
  }

  // --- registration ---------------------------------------------------------------------------

  async register(input: RegisterInput, meta: RequestMeta): Promise<User> {
    const email = normalizeEmail(input.email);
    const username = input.username.trim().normalize('NFC');
    const errors = [];
    if (!isPlausibleEmail(email)) errors.push({ field: 'email', message: 'must be a valid email address' });
    if (!USERNAME.test(username))
      errors.push({ field: 'username', message: 'must be 3-64 characters: letters, digits, ".", "_" or "-"' });
    errors.push(...this.d.passwordPolicy.check(input.password, { email, username }));
    if (errors.length) throw Errors.validation(errors);
    const tenant = await this.d.tenants.resolve(input.tenant);
    if (tenant.disabledAt) throw Errors.validation([{ field: 'tenant', message: 'tenant is disabled' }]);
    if (await this.d.users.findByEmail(tenant.id, email)) throw Errors.conflict('An account with this email already exists.', 'ERR_EMAIL_TAKEN');
    const hash = await this.d.hasher.hash(input.password);
    const at = this.now();
    let user: User;
    try {
      user = await this.d.users.create({ tenantId: tenant.id, email, username, passwordHash: hash, roles: [this.d.settings.defaultRole] }, at);
    } catch (err) {
      if ((err as AppError).code === 'ERR_ALREADY_EXISTS') throw Errors.conflict('An account with this email or username already exists.', 'ERR_EMAIL_TAKEN');
      throw err;
    }
    await this.d.passwordHistory?.remember(user.id, hash, at);
    await this.d.audit.record({ action: 'auth.register', actor: user.id, tenant: tenant.slug, target: user.id, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent });
    await this.d.onUserRegistered?.(user, meta);
    return user;
  }

  // --- login ----------------------------------------------------------------------------------

  /**
   * Every failure (unknown account, wrong password, locked, disabled) answers the same 401 after the
   * same bcrypt work, so neither the body nor the timing tells whether the account exists.
   */
  async login(input: LoginInput, meta: RequestMeta): Promise<TokenPair> {
    const email = normalizeEmail(input.email);
    const tenantSlug = input.tenant ?? 'default';
    await this.d.loginGuard?.check(email, tenantSlug, meta.ip);
    const fail = async (reason: string, userId: string | null) => {
      await this.d.loginGuard?.failed(email, tenantSlug, meta.ip);
      await this.d.audit.record({
        action: 'auth.login.failed',
        actor: userId ?? 'anonymous',
        tenant: tenantSlug,
        target: userId,
        outcome: 'failure',
        ip: meta.ip,
        userAgent: meta.userAgent,
        details: { reason },
      });
      return Errors.invalidCredentials();
    };
    const tenant = await this.d.tenants.findBySlugFresh(tenantSlug);
    if (!tenant || tenant.disabledAt) {
      await this.d.hasher.burn(input.password);
      throw await fail(tenant ? 'tenant_disabled' : 'unknown_tenant', null);
    }
    const user = await this.d.users.findByEmailWithSecret(tenant.id, email);
    if (!user) {
      await this.d.hasher.burn(input.password);
      throw await fail('unknown_account', null);
    }
    const at = this.now();
    if (user.lockedUntil && user.lockedUntil > at) {
      await this.d.hasher.burn(input.password);
      throw await fail('locked', user.id);
    }
    // Reserve the attempt before bcrypt runs: concurrent wrong attempts cannot overshoot the limit
    // (issue 4; docs/rate-limits.md). A refused reservation means locked: same burn, same 401.
    const lockUntil = new Date(at.getTime() + this.d.settings.lockoutDurationMs);
    const claim = await this.d.users.claimLoginAttempt(tenant.id, user.id, this.d.settings.loginMaxFailures, lockUntil, at);
    if (!claim.claimed) {
      await this.d.hasher.burn(input.password);
      throw await fail('locked', user.id);
    }
    const ok = await this.d.hasher.verify(input.password, user.passwordHash);
    if (!ok) {
      if (claim.lockedByThis)
        await this.d.audit.record({
          action: 'auth.lockout',
          actor: 'system',
          tenant: tenant.slug,
          target: user.id,
          outcome: 'success',
          ip: meta.ip,
          userAgent: meta.userAgent,
          details: { failures: claim.count, locked_until: lockUntil.toISOString() },
        });
      throw await fail('wrong_password', user.id);
    }
    // A correct password forgets the failures (and the lock its own reservation may have set).
    await this.d.users.clearLoginFailures(tenant.id, user.id, at);
    if (user.disabledAt) throw await fail('disabled', user.id);
    if (this.d.settings.requireVerifiedEmail && !user.emailVerifiedAt) {
      await this.d.audit.record({ action: 'auth.login.failed', actor: user.id, tenant: tenant.slug, target: user.id, outcome: 'failure', ip: meta.ip, userAgent: meta.userAgent, details: { reason: 'email_not_verified' } });
      throw Errors.emailNotVerified();
    }
    await this.d.loginGuard?.succeeded(email, tenantSlug, meta.ip);
    const { session: _session, ...pair } = await this.startSession(user, meta, null);
    await this.d.audit.record({ action: 'auth.login.succeeded', actor: user.id, tenant: tenant.slug, target: user.id, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent });
    return pair;
  }

  /** Creates a session with its first refresh token and access token (also used by OAuth2). */
  async startSession(user: User, meta: RequestMeta, clientId: string | null): Promise<TokenPair & { session: Session }> {
    const at = this.now();
    const absolute = new Date(at.getTime() + this.d.settings.sessionMaxAgeMs);
    const idle = new Date(Math.min(at.getTime() + this.d.settings.refreshIdleTtlMs, absolute.getTime()));
    const session = await this.d.sessions.create(
      { userId: user.id, tenantId: user.tenantId, ip: meta.ip, userAgent: meta.userAgent, clientId, idleExpiresAt: idle, absoluteExpiresAt: absolute },
      at,
    );
    const refresh = randomToken();
    await this.d.sessions.addRefreshToken(session.id, sha256Hex(refresh), at);
    const access = await this.d.tokens.issueAccessToken({ sub: user.id, sid: session.id, tid: user.tenantSlug, roles: user.roles, email: user.email });
    return { access_token: access.token, refresh_token: refresh, token_type: 'Bearer', expires_in: access.expiresIn, session };
  }

  // --- refresh --------------------------------------------------------------------------------

  /**
   * Rotates a refresh token. The old token is spent by a conditional UPDATE, so of several concurrent
   * requests exactly one wins. Presenting a token that was already spent is treated as theft: the whole
   * session is revoked (node-oidc-provider's rotation + reuse detection, RFC 9700 §4.14.2). A request that
   * found the token unspent but lost the race for it gets a plain 401 and revokes nothing — otherwise a
   * client that retries a refresh in parallel would kill the very pair the winner just received.
   */
  async refresh(refreshToken: string, meta: RequestMeta, expectClientId: string | null = null): Promise<TokenPair & { session: Session; user: User }> {
    const record = await this.d.sessions.findRefreshToken(sha256Hex(refreshToken));
    if (!record) throw Errors.invalidRefreshToken();
    const session = await this.d.sessions.findByIdAnyTenant(record.sessionId);
    if (!session) throw Errors.invalidRefreshToken();
    if ((session.clientId ?? null) !== expectClientId) throw Errors.invalidRefreshToken();
    const tenantSlug = await this.d.tenants.slugOf(session.tenantId);
    const at = this.now();
    const reused = async () => {
      const revoked = await this.d.sessions.revoke(session.tenantId, session.id, 'reuse_detected', at);
      if (revoked) await this.announce([revoked], 'reuse_detected', tenantSlug);
      await this.d.audit.record({ action: 'auth.refresh.reused', actor: session.userId, tenant: tenantSlug, target: session.id, outcome: 'failure', ip: meta.ip, userAgent: meta.userAgent });
      return Errors.refreshTokenReused();
    };
    if (record.spentAt) throw await reused();
    if (session.revokedAt || session.idleExpiresAt <= at || session.absoluteExpiresAt <= at) throw Errors.invalidRefreshToken();
    const user = await this.d.users.findById(session.tenantId, session.userId);
    const tenant = await this.d.tenants.findByIdFresh(session.tenantId);
    if (!user || user.disabledAt || !tenant || tenant.disabledAt) throw Errors.invalidRefreshToken();
    if (!(await this.d.sessions.spendRefreshToken(record.id, at))) {
      await this.d.audit.record({ action: 'auth.refresh', actor: session.userId, tenant: tenantSlug, target: session.id, outcome: 'failure', ip: meta.ip, userAgent: meta.userAgent, details: { reason: 'concurrent_rotation' } });
      throw Errors.invalidRefreshToken();
    }
    const idle = new Date(Math.min(at.getTime() + this.d.settings.refreshIdleTtlMs, session.absoluteExpiresAt.getTime()));
    // touch() only updates a session that is still unrevoked: a revoke that landed after the checks
    // above must not be answered with a fresh token pair for the revoked session.
    if (!(await this.d.sessions.touch(session.id, at, idle))) throw Errors.invalidRefreshToken();
    const next = randomToken();
    await this.d.sessions.addRefreshToken(session.id, sha256Hex(next), at);
    const access = await this.d.tokens.issueAccessToken({ sub: user.id, sid: session.id, tid: user.tenantSlug, roles: user.roles, email: user.email });
    await this.d.audit.record({ action: 'auth.refresh', actor: user.id, tenant: tenantSlug, target: session.id, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent });
    return { access_token: access.token, refresh_token: next, token_type: 'Bearer', expires_in: access.expiresIn, session: { ...session, lastUsedAt: at, idleExpiresAt: idle }, user };
  }

  // --- bearer authentication ------------------------------------------------------------------

  /** Verifies a bearer token and checks the revocation set (no database query). */
  async authenticate(token: string): Promise<AuthContext> {
    const claims = await this.d.tokens.verifyAccessToken(token);
    if (this.d.revocation.isRevoked(claims.sid, claims.sub, claims.tid, claims.iat)) throw Errors.tokenRevoked();
    return { claims, token };
  }

  validateView(ctx: AuthContext): ValidateView {
    const c = ctx.claims;
    return { sub: c.sub, email: c.email, roles: c.roles, permissions: [...this.d.permissionsFor(c.roles)], tenant: c.tid, sid: c.sid, exp: c.exp };
  }

  private async tenantIdOf(ctx: AuthContext): Promise<string> {
    const tenant = await this.d.tenants.findBySlug(ctx.claims.tid);
    if (!tenant) throw Errors.tokenRevoked();
    return tenant.id;
  }

  async me(ctx: AuthContext): Promise<UserView> {
    const user = await this.d.users.findById(await this.tenantIdOf(ctx), ctx.claims.sub);
    if (!user) throw Errors.notFound('User');
    return toUserView(user, this.d.clock.now());
  }

  // --- logout and sessions --------------------------------------------------------------------

  /** Publishes revocations on the bus so every proxy rejects the sessions' access tokens. */
  async announce(refs: readonly RevokedSessionRef[], reason: RevocationReason, _tenant?: string): Promise<void> {
    if (refs.length === 0) return;
    await this.d.revocation.publish(refs.map((r) => ({ kind: 'session' as const, id: r.id, at: r.revokedAt.getTime(), reason })));
  }

  async revokeSession(tenantId: string, sessionId: string, reason: RevocationReason, actor: string, meta: RequestMeta): Promise<boolean> {
    const ref = await this.d.sessions.revoke(tenantId, sessionId, reason, this.now());
    if (!ref) return false;
    const slug = await this.d.tenants.slugOf(tenantId);
    await this.announce([ref], reason, slug);
    // A user ending their own session is `auth.logout`; any other revocation (admin, reuse…) `session.revoked`.
    const action = reason === 'logout' ? 'auth.logout' : 'session.revoked';
    await this.d.audit.record({ action, actor, tenant: slug, target: sessionId, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent, details: { reason, user: ref.userId } });
    return true;
  }

  async revokeAllSessions(tenantId: string, userId: string, reason: RevocationReason, actor: string, meta: RequestMeta, exceptSessionId?: string): Promise<number> {
    const refs = await this.d.sessions.revokeAllForUser(tenantId, userId, reason, this.now(), exceptSessionId);
    const slug = await this.d.tenants.slugOf(tenantId);
    await this.announce(refs, reason, slug);
    if (refs.length)
      await this.d.audit.record({ action: reason === 'logout_all' ? 'auth.logout' : 'session.revoked', actor, tenant: slug, target: userId, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent, details: { reason, sessions: refs.map((r) => r.id) } });
    return refs.length;
  }

  /** Logout by refresh token (no bearer needed) or by the bearer's own session. */
  async logout(input: { refreshToken?: string; ctx?: AuthContext }, meta: RequestMeta): Promise<void> {
    if (input.ctx) {
      await this.revokeSession(await this.tenantIdOf(input.ctx), input.ctx.claims.sid, 'logout', input.ctx.claims.sub, meta);
      return;
    }
    const record = input.refreshToken ? await this.d.sessions.findRefreshToken(sha256Hex(input.refreshToken)) : null;
    if (!record) throw Errors.invalidRefreshToken();
    const session = await this.d.sessions.findByIdAnyTenant(record.sessionId);
    if (!session) throw Errors.invalidRefreshToken();
    await this.revokeSession(session.tenantId, session.id, 'logout', session.userId, meta);
  }

  async logoutAll(ctx: AuthContext, meta: RequestMeta): Promise<number> {
    return this.revokeAllSessions(await this.tenantIdOf(ctx), ctx.claims.sub, 'logout_all', ctx.claims.sub, meta);
  }

  async listSessions(ctx: AuthContext): Promise<SessionView[]> {
    const sessions = await this.d.sessions.listForUser(await this.tenantIdOf(ctx), ctx.claims.sub, { activeAt: this.now() });
    return sessions.map((s) => ({
      id: s.id,
      created_at: s.createdAt.toISOString(),
      last_used_at: s.lastUsedAt.toISOString(),
      ip: s.ip,
      user_agent: s.userAgent,
      current: s.id === ctx.claims.sid,
    }));
  }

  /** Deletes one of the caller's own sessions; another user's id is 404 (no existence leak). */
  async deleteOwnSession(ctx: AuthContext, sessionId: string, meta: RequestMeta): Promise<void> {
    const tenantId = await this.tenantIdOf(ctx);
    const session = await this.d.sessions.findById(tenantId, sessionId);
    if (!session || session.userId !== ctx.claims.sub || session.revokedAt) throw Errors.notFound('Session');
    await this.revokeSession(tenantId, sessionId, 'logout', ctx.claims.sub, meta);
  }

  // --- password -------------------------------------------------------------------------------

  /** Applies the policy and history rules, stores the new hash. Shared by change and reset. */
  async setPassword(tenantId: string, user: User, newPassword: string, field = 'new_password'): Promise<void> {
    const errors = this.d.passwordPolicy.check(newPassword, { email: user.email, username: user.username }, field);
    if (errors.length) throw Errors.validation(errors);
    if (await this.d.passwordHistory?.isReused(user.id, newPassword))
      throw Errors.validation([{ field, message: 'must not reuse one of your last 5 passwords (rule: history)' }]);
    const at = this.now();
    const hash = await this.d.hasher.hash(newPassword);
    await this.d.users.update(tenantId, user.id, { passwordHash: hash, passwordChangedAt: at, failedLoginCount: 0, lockedUntil: null }, at);
    await this.d.passwordHistory?.remember(user.id, hash, at);
  }

  async changePassword(ctx: AuthContext, current: string, next: string, meta: RequestMeta): Promise<void> {
    const tenantId = await this.tenantIdOf(ctx);
    const user = await this.d.users.findByIdWithSecret(tenantId, ctx.claims.sub);
    if (!user) throw Errors.notFound('User');
    if (!(await this.d.hasher.verify(current, user.passwordHash)))
      throw Errors.validation([{ field: 'current_password', message: 'is incorrect' }], 'The current password is incorrect.');
    if (current === next) throw Errors.validation([{ field: 'new_password', message: 'must differ from the current password (rule: history)' }]);
    await this.setPassword(tenantId, user, next);
    await this.d.audit.record({ action: 'auth.password.changed', actor: user.id, tenant: user.tenantSlug, target: user.id, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent });
    await this.revokeAllSessions(tenantId, user.id, 'password_change', user.id, meta, ctx.claims.sid);
  }
}
