// The composition root for core: builds every repository and service from the validated config.
// The server (proxy/) and authctl (cli/) both start here; nothing else constructs services.
import type { Config } from '../config/config.schema.js';
import { systemClock, type Clock } from './clock.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrator.js';
import { createLogger, type Logger } from './logger.js';
import { TenantRepository } from './repositories/tenant.repository.js';
import { UserRepository } from './repositories/user.repository.js';
import { SessionRepository } from './repositories/session.repository.js';
import { SigningKeyRepository } from './repositories/signing-key.repository.js';
import { TenantDirectory } from './services/tenant-directory.js';
import { createPasswordHasher, type PasswordHasher } from './services/password-hasher.js';
import { createPasswordPolicy } from './services/password-policy.js';
import { AuthService } from './services/auth.service.js';
import { createEmailFlows, type EmailFlows } from './services/email-flows.js';
import { createAdminServices, type AdminServices } from './services/admin-services.js';
import { KeyStore } from './tokens/key-store.js';
import { TokenService } from './tokens/token.service.js';
import { LocalRevocationBus, type RevocationBus, type RevocationSource } from './revocation/revocation-bus.js';
import { RedisRevocationBus } from './revocation/redis-revocation-bus.js';
import { createRedisClient, type RedisClient } from './redis.js';
import { createRateLimits, waitForRedis, type RateLimits } from './ratelimit/index.js';
import { PasswordHistoryRepository } from './repositories/password-history.repository.js';
import { StoredPasswordHistory } from './services/password-history.js';
import { LockoutService } from './services/lockout.service.js';
import { SessionCleanup } from './services/session-cleanup.js';
import type { RevocationEvent } from './revocation/revocation-set.js';
import type { AuditLog } from './audit/audit-log.js';
import { ChainedAuditLog } from './audit/chained-audit-log.js';
import { AuditQuery } from './audit/audit-query.js';
import { AuditRepository } from './repositories/audit.repository.js';
import { createOAuthServices, type OAuthServices } from './oauth/index.js';

export interface CoreOptions {
  clock?: Clock;
  logger?: Logger;
  /** Run pending migrations before use (the server does unless --no-migrate). */
  migrate?: boolean;
  /** Role → permissions expansion from the current policy; the server swaps it on reload. */
  permissionsFor?: (roles: readonly string[]) => ReadonlySet<string>;
  /**
   * Revocation database poll (ms); 0 disables (the CLI only publishes). Without Redis this is the
   * interval (server: 500). With Redis it is used while Redis is down; healthy, it polls every 5000.
   */
  revocationPollMs?: number;
  /** Redis bus poll interval while the subscription is healthy (default 5000 ms). */
  revocationHealthyPollMs?: number;
}

export interface Core {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly db: Database;
  readonly repos: {
    tenants: TenantRepository;
    users: UserRepository;
    sessions: SessionRepository;
    keys: SigningKeyRepository;
  };
  readonly tenants: TenantDirectory;
  readonly hasher: PasswordHasher;
  readonly keys: KeyStore;
  readonly tokens: TokenService;
  readonly revocation: RevocationBus;
  readonly audit: AuditLog;
  /** Audit trail reads and maintenance: list, export, verify, purge, GDPR erase (docs/audit.md). */
  readonly auditQuery: AuditQuery;
  readonly auth: AuthService;
  /** Rate limits and the login brute-force guard (core/ratelimit; docs/rate-limits.md). */
  readonly rateLimits: RateLimits;
  /** Unlock = clear the lockout and the brute-force counters, audited as auth.unlock. */
  readonly lockout: LockoutService;
  /** Purges ended sessions past tokens.session_retention; the server schedules it hourly. */
  readonly sessionCleanup: SessionCleanup;
  /** Email flows (issue 11): password reset, email verification, the mail dispatcher (docs/email.md). */
  readonly passwordReset: EmailFlows['passwordReset'];
  readonly emailVerification: EmailFlows['emailVerification'];
  readonly mail: EmailFlows['dispatcher'];
  /** Admin API / authctl: users, sessions, tenants (core/services/admin-services.ts). */
  readonly admin: AdminServices;
  /** OAuth2 / OIDC provider: clients, authorize/token/userinfo/revoke/introspect, browser sessions (docs/oidc.md). */
  readonly oauth: OAuthServices;
  /** Set by the server when a policy is loaded; used for validate/permissions. */
  setPermissionsResolver(fn: (roles: readonly string[]) => ReadonlySet<string>): void;
  close(): Promise<void>;
}

/**
 * Database rows revoked since a time, as revocation events. The rows are the source of truth that
 * every process (and the CLI, which may have no Redis) writes: sessions.revoked_at, users.disabled_at,
 * tenants.disabled_at. Each query reads only rows changed since `sinceMs`, through an index.
 */
export function revocationSourceFor(repos: Pick<Core['repos'], 'sessions' | 'users' | 'tenants'>): RevocationSource {
  return async (sinceMs) => {
    const since = new Date(sinceMs);
    const [sessions, users, tenants] = await Promise.all([
      repos.sessions.listRevokedSince(since),
      repos.users.listDisabledSince(since),
      repos.tenants.listDisabledSince(since),
    ]);
    const events: RevocationEvent[] = [];
    for (const s of sessions) events.push({ kind: 'session', id: s.id, at: s.revokedAt.getTime(), reason: s.reason });
    for (const u of users) events.push({ kind: 'user', id: u.id, at: u.disabledAt.getTime(), reason: 'user_disabled' });
    for (const t of tenants) events.push({ kind: 'tenant', id: t.slug, at: t.disabledAt.getTime(), reason: 'tenant_disabled' });
    return events;
  };
}

export async function createCore(config: Config, options: CoreOptions = {}): Promise<Core> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.log.level);
  const db = openDatabase({
    url: config.database.url,
    poolMax: config.database.pool_max,
    ...(config.database.log_sql ? { logSql: (sql: string) => logger.debug({ sql }, 'sql') } : {}),
  });
  let rateLimitRedis: RedisClient | null = null;
  try {
    if (options.migrate) await migrate(db);
    const tenantRepo = new TenantRepository(db);
    const tenants = new TenantDirectory(tenantRepo, clock);
    const repos = {
      tenants: tenantRepo,
      users: new UserRepository(db, (id) => tenants.slugOf(id)),
      sessions: new SessionRepository(db),
      keys: new SigningKeyRepository(db),
    };
    const hasher = await createPasswordHasher(config.security.bcrypt_cost);
    const keys = new KeyStore(repos.keys, clock);
    await keys.init();
    const tokens = new TokenService(keys, clock, {
      issuer: config.tokens.issuer,
      audience: config.tokens.audience,
      accessTtlMs: config.tokens.access_ttl,
      clockToleranceMs: config.tokens.clock_tolerance,
    });
    // Entries live as long as a token issued before the revocation can: access TTL + clock tolerance.
    const busOptions = {
      clock,
      retentionMs: config.tokens.access_ttl + config.tokens.clock_tolerance + 5_000,
      source: revocationSourceFor(repos),
      pollIntervalMs: options.revocationPollMs ?? 0,
      onError: (err: unknown) => logger.warn({ err }, 'revocation bus error'),
    };
    const redisUrl = config.redis.url;
    const revocation: RevocationBus = redisUrl
      ? new RedisRevocationBus({
          ...busOptions,
          channel: config.redis.revocation_channel,
          degradedPollMs: options.revocationPollMs || 1000,
          healthyPollMs: options.revocationHealthyPollMs ?? 5000,
          connect: (role) =>
            createRedisClient(redisUrl, {
              name: `revocation-${role}`,
              logger,
              // The bus subscribes itself on every 'ready' and reconciles after the SUBSCRIBE is acknowledged.
              ...(role === 'subscriber' ? { redis: { autoResubscribe: false } } : {}),
            }),
        })
      : new LocalRevocationBus(busOptions);
    // Hash-chained audit rows + JSON log lines (core/audit/chained-audit-log.ts).
    const auditRepo = new AuditRepository(db);
    const auditLogger = logger.child({ component: 'audit' });
    const audit = new ChainedAuditLog({ repo: auditRepo, clock, logger: auditLogger });
    const auditQuery = new AuditQuery({ repo: auditRepo, clock, logger: auditLogger, retentionMs: config.audit.retention });
    let permissionsFor = options.permissionsFor ?? ((): ReadonlySet<string> => new Set<string>());
    const passwordPolicy = createPasswordPolicy(config.security.password_min_length);
    // Rate-limit counters get their own connection: commands fail fast while Redis is down (no offline
    // queue) so the insurance limiter answers at once instead of after a timeout.
    // Auto-pipelining batches the counters of every request in the same tick into one write (issue 9: one
    // round trip per tick instead of two per request; docs/benchmarks.md).
    rateLimitRedis = redisUrl
      ? createRedisClient(redisUrl, { name: 'ratelimit', logger, redis: { enableOfflineQueue: false, enableAutoPipelining: true } })
      : null;
    if (rateLimitRedis) await waitForRedis(rateLimitRedis, 2000);
    const rateLimits = createRateLimits(config, rateLimitRedis, logger);
    const passwordHistory = new StoredPasswordHistory(new PasswordHistoryRepository(db));
    const auth = new AuthService({
      users: repos.users,
      sessions: repos.sessions,
      tenants,
      hasher,
      passwordPolicy,
      tokens,
      revocation,
      audit,
      clock,
      permissionsFor: (roles) => permissionsFor(roles),
      loginGuard: rateLimits.loginGuard,
      passwordHistory,
      settings: {
        defaultRole: config.security.default_role,
        refreshIdleTtlMs: config.tokens.refresh_idle_ttl,
        sessionMaxAgeMs: config.tokens.session_max_age,
        loginMaxFailures: config.security.login_max_failures,
        lockoutDurationMs: config.security.lockout_duration,
        requireVerifiedEmail: config.security.require_verified_email,
      },
      // Registration never waits for (or fails on) the verification mail.
      onUserRegistered: (user, meta) => email.emailVerification.onUserRegistered(user, meta),
    });
    const email = createEmailFlows({ config, db, users: repos.users, tenants, auth, audit, clock, logger, createLimiter: (spec) => rateLimits.store.create(spec) });
    const admin = createAdminServices({
      repos,
      directory: tenants,
      auth,
      passwordPolicy,
      revocation,
      audit,
      clock,
      defaultRole: config.security.default_role,
      policiesFile: config.policies.file,
      passwordReset: email.passwordReset,
      auditQuery,
      loginCounters: rateLimits.loginGuard,
    });
    // A tenant disabled by another process (authctl) must stop logins here too, not after the cache TTL.
    revocation.onRevoked((e) => {
      if (e.kind === 'tenant') tenants.invalidate();
    });
    const oauth = createOAuthServices({
      db,
      users: repos.users,
      sessions: repos.sessions,
      tenants,
      auth,
      tokens,
      revocation,
      audit,
      clock,
      issuer: config.tokens.issuer,
      accessTtlMs: config.tokens.access_ttl,
      refreshIdleTtlMs: config.tokens.refresh_idle_ttl,
    });
    const lockout = new LockoutService({ users: repos.users, audit, clock, loginCounters: rateLimits.loginGuard });
    const sessionCleanup = new SessionCleanup({ sessions: repos.sessions, clock, retentionMs: config.tokens.session_retention, logger, emailTokens: email.emailTokens });
    return {
      config,
      clock,
      logger,
      db,
      repos,
      tenants,
      hasher,
      keys,
      tokens,
      revocation,
      audit,
      auditQuery,
      auth,
      rateLimits,
      lockout,
      passwordReset: email.passwordReset,
      emailVerification: email.emailVerification,
      mail: email.dispatcher,
      admin,
      oauth,
      sessionCleanup,
      setPermissionsResolver(fn) {
        permissionsFor = fn;
      },
      async close() {
        await email.close();
        await sessionCleanup.stop();
        await revocation.stop();
        rateLimitRedis?.disconnect();
        await db.close();
      },
    };
  } catch (err) {
    rateLimitRedis?.disconnect();
    await db.close().catch(() => undefined);
    throw err;
  }
}
