// What password reset and email verification share: issuing a one-time token (≥ 256-bit random,
// stored as SHA-256, bound to user + tenant, with a TTL), building the link from configuration only,
// delivering the mail through the retrying dispatcher, and finding a token that may still be spent.
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AuditLog } from '../audit/audit-log.js';
import { randomToken, sha256Hex } from '../crypto/secrets.js';
import type { User } from '../domain/types.js';
import type { BackgroundTasks } from '../mail/background-tasks.js';
import { buildTokenLink } from '../mail/links.js';
import type { MailDispatcher } from '../mail/mail-dispatcher.js';
import type { MailMessage } from '../mail/mailer.js';
import type { SendLimits } from '../mail/send-limits.js';
import type { LinkMailInput } from '../mail/templates.js';
import type { EmailToken, EmailTokenPurpose, EmailTokenRepository } from '../repositories/email-token.repository.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { AuthService } from './auth.service.js';
import type { TenantDirectory } from './tenant-directory.js';

export interface EmailFlowDeps {
  users: UserRepository;
  emailTokens: EmailTokenRepository;
  tenants: TenantDirectory;
  auth: AuthService;
  dispatcher: MailDispatcher;
  limits: SendLimits;
  background: BackgroundTasks;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  settings: {
    publicUrl: string;
    productName: string;
    resetPath: string;
    verifyPath: string;
    resetTtlMs: number;
    verifyTtlMs: number;
  };
}

/** What authctl / the admin API get back from an operator-initiated request. */
export interface IssuedLink {
  /** Present only when the caller asked to print the link instead of mailing it. */
  link?: string;
  sent: boolean;
  expiresAt: Date;
}

export const mailFailed = (): AppError =>
  new AppError('ERR_MAIL_FAILED', 502, 'Mail delivery failed', { detail: 'The message could not be handed to the mail server.', expose: true });

export abstract class EmailTokenFlow {
  protected abstract readonly purpose: EmailTokenPurpose;
  protected abstract readonly ttlMs: number;
  protected abstract readonly path: string;
  protected abstract render(input: LinkMailInput): MailMessage;

  constructor(protected readonly d: EmailFlowDeps) {}

  protected now(): Date {
    return new Date(this.d.clock.now());
  }

  /** Throws 429 when this client IP asked too often (says nothing about any account). */
  checkRequestRate(ip: string | null): Promise<void> {
    return this.d.limits.checkIp(this.purpose, ip);
  }

  /** Resolves when background lookups/sends started so far are over (tests, shutdown). */
  idle(): Promise<void> {
    return this.d.background.idle();
  }

  /**
   * Creates a token for the user and returns the mail carrying its link. A new reset token supersedes
   * every older unused one, so only the latest mail works.
   */
  protected async issue(user: User): Promise<{ link: string; message: MailMessage; expiresAt: Date }> {
    const at = this.now();
    if (this.purpose === 'reset') await this.d.emailTokens.invalidateUnused(user.tenantId, user.id, 'reset', at);
    const token = randomToken(32);
    const expiresAt = new Date(at.getTime() + this.ttlMs);
    await this.d.emailTokens.create({ userId: user.id, tenantId: user.tenantId, purpose: this.purpose, tokenHash: sha256Hex(token), expiresAt }, at);
    const link = buildTokenLink(this.d.settings.publicUrl, this.path, token);
    const message = this.render({ productName: this.d.settings.productName, to: user.email, link, ttlMs: this.ttlMs });
    return { link, message, expiresAt };
  }

  /**
   * Issues and mails a link in the background path: subject to the per-account hourly limit, which
   * is silent (the HTTP answer was already 202), and delivered with the bounded retry.
   */
  protected async issueAndDispatch(user: User): Promise<boolean> {
    if (!(await this.d.limits.accountAllows(this.purpose, user.id))) {
      this.d.logger.warn({ purpose: this.purpose, user: user.id, tenant: user.tenantSlug }, 'per-account mail limit reached; not sending');
      return false;
    }
    const { message } = await this.issue(user);
    await this.d.dispatcher.dispatch(message, { purpose: this.purpose, userId: user.id, tenant: user.tenantSlug });
    return true;
  }

  /** Operator path (authctl, admin API): no per-account limit; prints or sends once, errors surface. */
  protected async issueForOperator(user: User, print: boolean): Promise<IssuedLink> {
    const { link, message, expiresAt } = await this.issue(user);
    if (print) return { link, sent: false, expiresAt };
    try {
      await this.d.dispatcher.sendNow(message);
    } catch (err) {
      this.d.logger.error({ purpose: this.purpose, user: user.id, err: { message: err instanceof Error ? err.message : String(err) } }, 'mail delivery failed');
      throw mailFailed();
    }
    return { sent: true, expiresAt };
  }

  /** The token record when it exists, has this purpose, is unused and unexpired; else null. */
  protected async findUsable(token: string): Promise<EmailToken | null> {
    if (token.length < 16 || token.length > 256) return null;
    const record = await this.d.emailTokens.findByHashAnyTenant(sha256Hex(token));
    if (!record || record.purpose !== this.purpose || record.usedAt) return null;
    if (record.expiresAt.getTime() <= this.d.clock.now()) return null;
    return record;
  }
}
