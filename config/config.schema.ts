// The one configuration schema (zod): every key, its type, default and the environment names that set it.
import { z } from 'zod';
import { parseDuration } from './duration.js';

const duration = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a duration such as 900, 15m or 7d (got "${String(v)}")` });
        return z.NEVER;
      }
      return ms;
    });

const bool = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
    .default(fallback)
    .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const cidrList = z
  .union([z.string(), z.array(z.string())])
  .default([])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0));

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .refine((v) => v === undefined || protocols.some((p) => v.startsWith(p)), {
      message: `must start with ${protocols.join(' or ')}`,
    });

export const configSchema = z
  .object({
    server: z
      .object({
        port: int(8080, 0, 65535),
        host: z.string().default('0.0.0.0'),
        public_url: z.string().url().optional(),
        trusted_proxies: cidrList,
        metrics_port: z.coerce.number().int().min(0).max(65535).optional(),
        body_limit: int(1_048_576, 1024, 64 * 1_048_576),
        drain_timeout: duration('10s'),
        headers_timeout: duration('10s'),
        request_timeout: duration('30s'),
        keep_alive_timeout: duration('5s'),
        upstream_timeout: duration('30s'),
        auth_prefix: z.string().regex(/^\/[a-z0-9/_-]*[a-z0-9]$/i).default('/auth'),
        demo: bool(false),
        demo_port: int(4000, 0, 65535),
        access_log: bool(false),
        // Requests with more header fields than this are refused with 431 (Node itself only truncates at 2000).
        max_header_count: int(200, 16, 2000),
      })
      .strict()
      .default({}),
    database: z
      .object({
        url: z
          .string()
          .default('sqlite:./data/authgate.sqlite')
          .refine((v) => /^(postgres|postgresql):\/\//.test(v) || v.startsWith('sqlite:'), {
            message: 'must be postgres://… or sqlite:PATH',
          }),
        pool_max: int(10, 1, 200),
        log_sql: bool(false),
      })
      .strict()
      .default({}),
    redis: z
      .object({
        url: optionalUrl(['redis://', 'rediss://']),
        // Prefix of every rate-limit key in Redis (replicas sharing limits must agree on it).
        rate_limit_prefix: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/).default('authgate:rl'),
        // docs/sessions.md: pub/sub channel of the revocation bus (installations sharing a Redis use different ones).
        revocation_channel: z.string().regex(/^[A-Za-z0-9:_.-]{1,128}$/).default('authgate:revocations'),
      })
      .strict()
      .default({}),
    mail: z
      .object({
        smtp_url: optionalUrl(['smtp://', 'smtps://']),
        from: z.string().default('authgate <no-reply@localhost>'),
        outbox_dir: z.string().default('./data/outbox'),
        reset_path: z.string().default('/reset-password'),
        verify_path: z.string().default('/verify-email'),
        product_name: z.string().default('authgate'),
        // Email flows (docs/email.md): bounded in-process retry of failed SMTP sends, and abuse limits.
        retry_attempts: int(5, 1, 20),
        retry_backoff: duration('30s'),
        max_per_account_per_hour: int(5, 1, 1000),
        request_ip_per_hour: int(30, 1, 1_000_000),
      })
      .strict()
      .default({}),
    tokens: z
      .object({
        issuer: z.string().optional(),
        audience: z.string().default('authgate'),
        access_ttl: duration('15m'),
        refresh_idle_ttl: duration('7d'),
        session_max_age: duration('30d'),
        clock_tolerance: duration('5s'),
        upstream_token_ttl: duration('60s'),
        reset_ttl: duration('30m'),
        verify_ttl: duration('24h'),
        token_cache_size: int(10_000, 0, 1_000_000),
        // docs/sessions.md: ended (revoked or expired) sessions and their refresh tokens are purged after this.
        session_retention: duration('30d'),
      })
      .strict()
      .default({}),
    security: z
      .object({
        bcrypt_cost: int(12, 4, 16),
        login_max_failures: int(10, 1, 1000),
        lockout_duration: duration('15m'),
        password_min_length: int(12, 8, 72),
        require_verified_email: bool(false),
        default_role: z.string().min(1).default('user'),
        rate_limit_ip_points: int(600, 0, 1_000_000),
        rate_limit_ip_per: duration('60s'),
        // docs/rate-limits.md: per-IP limit on each sensitive /auth endpoint group (login, register, …); 0 disables.
        rate_limit_auth_points: int(60, 0, 1_000_000),
        rate_limit_auth_per: duration('60s'),
        // Login brute-force guard: failures per IP per day; consecutive failures per (account, IP) before
        // a 1 h block; and after how many consecutive failures each further one imposes a growing wait.
        login_ip_max_failures: int(100, 1, 1_000_000),
        login_account_ip_max_failures: int(20, 1, 1_000_000),
        login_slow_after: int(3, 1, 1_000_000),
      })
      .strict()
      .default({}),
    policies: z
      .object({ file: z.string().default('./policies.yaml'), watch: bool(true) })
      .strict()
      .default({}),
    audit: z
      .object({ retention: duration('365d') })
      .strict()
      .default({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({}),
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;

/** The validated, frozen configuration handed to the composition root. */
export type Config = Readonly<{
  [K in keyof Parsed]: Readonly<Parsed[K]>;
}> & { readonly server: Readonly<Parsed['server']> & { readonly public_url: string } } & {
  readonly tokens: Readonly<Parsed['tokens']> & { readonly issuer: string };
};

/** SPEC §2 short environment names, each mapped to its section.key. */
export const SHORT_ENV: Readonly<Record<string, readonly [string, string]>> = {
  PORT: ['server', 'port'],
  HOST: ['server', 'host'],
  PUBLIC_URL: ['server', 'public_url'],
  TRUSTED_PROXIES: ['server', 'trusted_proxies'],
  DATABASE_URL: ['database', 'url'],
  REDIS_URL: ['redis', 'url'],
  SMTP_URL: ['mail', 'smtp_url'],
  MAIL_FROM: ['mail', 'from'],
  POLICIES_FILE: ['policies', 'file'],
  JWT_ISSUER: ['tokens', 'issuer'],
  JWT_AUDIENCE: ['tokens', 'audience'],
  ACCESS_TOKEN_TTL: ['tokens', 'access_ttl'],
  REFRESH_IDLE_TTL: ['tokens', 'refresh_idle_ttl'],
  SESSION_MAX_AGE: ['tokens', 'session_max_age'],
  BCRYPT_COST: ['security', 'bcrypt_cost'],
  LOGIN_MAX_FAILURES: ['security', 'login_max_failures'],
  LOCKOUT_DURATION: ['security', 'lockout_duration'],
  PASSWORD_MIN_LENGTH: ['security', 'password_min_length'],
  REQUIRE_VERIFIED_EMAIL: ['security', 'require_verified_email'],
  DEFAULT_ROLE: ['security', 'default_role'],
  LOG_LEVEL: ['log', 'level'],
};
