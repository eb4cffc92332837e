// Builds the email flows (issue 11) from the validated config for the composition root: the mailer
// (SMTP or outbox), the retrying dispatcher, the send limits, the token repository and both services.
import type { Config } from '../../config/config.schema.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Database } from '../db/database.js';
import { BackgroundTasks } from '../mail/background-tasks.js';
import { MailDispatcher } from '../mail/mail-dispatcher.js';
import { createMailer } from '../mail/mailer.js';
import { SendLimits, type LimiterFactory } from '../mail/send-limits.js';
import { EmailTokenRepository } from '../repositories/email-token.repository.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { AuthService } from './auth.service.js';
import { EmailVerificationService } from './email-verification.service.js';
import { PasswordResetService } from './password-reset.service.js';
import type { TenantDirectory } from './tenant-directory.js';

export interface EmailFlows {
  passwordReset: PasswordResetService;
  emailVerification: EmailVerificationService;
  dispatcher: MailDispatcher;
  /** One-time token storage; the session cleanup purges expired rows through it. */
  emailTokens: EmailTokenRepository;
  /** Waits for background work, drops pending retries (logged), closes the transport. */
  close(): Promise<void>;
}

export function createEmailFlows(input: {
  config: Config;
  db: Database;
  users: UserRepository;
  tenants: TenantDirectory;
  auth: AuthService;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  /** The shared limiter store (core/ratelimit) so limits hold across replicas with Redis; memory when absent. */
  createLimiter?: LimiterFactory;
}): EmailFlows {
  const { config, clock } = input;
  const logger = input.logger.child({ component: 'mail' });
  const mailer = createMailer({ smtpUrl: config.mail.smtp_url, from: config.mail.from, outboxDir: config.mail.outbox_dir, now: () => clock.now() }, logger);
  const dispatcher = new MailDispatcher(mailer, logger, { attempts: config.mail.retry_attempts, backoffMs: config.mail.retry_backoff });
  const background = new BackgroundTasks(logger);
  const emailTokens = new EmailTokenRepository(input.db);
  const deps = {
    users: input.users,
    emailTokens,
    tenants: input.tenants,
    auth: input.auth,
    dispatcher,
    limits: new SendLimits(
      { perAccountPerHour: config.mail.max_per_account_per_hour, perIpPerHour: config.mail.request_ip_per_hour },
      input.createLimiter,
      (err) => logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'mail rate limiter failed; allowed'),
    ),
    background,
    audit: input.audit,
    clock,
    logger,
    settings: {
      publicUrl: config.server.public_url,
      productName: config.mail.product_name,
      resetPath: config.mail.reset_path,
      verifyPath: config.mail.verify_path,
      resetTtlMs: config.tokens.reset_ttl,
      verifyTtlMs: config.tokens.verify_ttl,
    },
  };
  return {
    passwordReset: new PasswordResetService(deps),
    emailVerification: new EmailVerificationService(deps),
    dispatcher,
    emailTokens,
    async close() {
      await background.idle();
      await dispatcher.close();
    },
  };
}
