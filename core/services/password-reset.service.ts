// Password reset by emailed one-time link (SPEC §3): the request answers 202 before any lookup so
// neither body nor timing tells whether the account exists; confirm sets the password through
// AuthService.setPassword (policy + history), spends the token atomically and revokes every session.
import { AppError } from '../errors.js';
import { normalizeEmail } from '../domain/email.js';
import type { User } from '../domain/types.js';
import { passwordResetMail, type LinkMailInput } from '../mail/templates.js';
import type { MailMessage } from '../mail/mailer.js';
import type { RequestMeta } from './auth.service.js';
import { DEFAULT_TENANT } from './tenant-directory.js';
import { EmailTokenFlow, type IssuedLink } from './email-token-flow.js';

export const invalidResetToken = (): AppError =>
  new AppError('ERR_RESET_TOKEN_INVALID', 400, 'Invalid reset link', { detail: 'The reset link is invalid, already used or expired. Ask for a new one.' });

export class PasswordResetService extends EmailTokenFlow {
  protected readonly purpose = 'reset' as const;
  protected get ttlMs(): number {
    return this.d.settings.resetTtlMs;
  }
  protected get path(): string {
    return this.d.settings.resetPath;
  }
  protected render(input: LinkMailInput): MailMessage {
    return passwordResetMail(input);
  }

  /**
   * Schedules the lookup and the mail after the caller has answered 202. The email is normalised
   * once here (core/domain/email.ts), so `Alice@Example.com` finds `alice@example.com`.
   */
  request(input: { email: string; tenant?: string | undefined }, meta: RequestMeta): void {
    const email = normalizeEmail(input.email);
    const tenantSlug = input.tenant ?? DEFAULT_TENANT;
    this.d.background.run('password-reset-request', async () => {
      const tenant = await this.d.tenants.findBySlug(tenantSlug);
      if (!tenant || tenant.disabledAt) return;
      const user = await this.d.users.findByEmail(tenant.id, email);
      // Unknown and disabled accounts get nothing; the answer was the same 202 either way.
      if (!user || user.disabledAt) return;
      const sent = await this.issueAndDispatch(user);
      await this.d.audit.record({
        action: 'auth.password.reset_requested',
        actor: 'anonymous',
        tenant: user.tenantSlug,
        target: user.id,
        outcome: sent ? 'success' : 'failure',
        ip: meta.ip,
        userAgent: meta.userAgent,
        ...(sent ? {} : { details: { reason: 'account_mail_limit' } }),
      });
    });
  }

  /**
   * For authctl `user reset-password USER [--print]` and the admin API: issues a reset token for a
   * known user and mails it, or returns the link without mailing when `print` is set.
   */
  async requestForUser(user: User, options: { print: boolean; actor?: string }): Promise<IssuedLink> {
    const issued = await this.issueForOperator(user, options.print);
    await this.d.audit.record({
      action: 'auth.password.reset_requested',
      actor: options.actor ?? 'system',
      tenant: user.tenantSlug,
      target: user.id,
      outcome: 'success',
      details: { delivery: options.print ? 'printed' : 'mailed' },
    });
    return issued;
  }

  /** Sets the new password with a valid reset token; every session of the user is revoked. */
  async confirm(token: string, newPassword: string, meta: RequestMeta): Promise<void> {
    const record = await this.findUsable(token);
    if (!record) throw invalidResetToken();
    const user = await this.d.users.findById(record.tenantId, record.userId);
    if (!user || user.disabledAt) throw invalidResetToken();
    const at = this.now();
    // Spend first (one conditional UPDATE): of two concurrent confirmations only one gets past here.
    if (!(await this.d.emailTokens.spend(record.tenantId, record.id, 'reset', at))) throw invalidResetToken();
    try {
      await this.d.auth.setPassword(record.tenantId, user, newPassword);
    } catch (err) {
      // A password the policy refuses must not burn the link: give the token back and let them retry.
      await this.d.emailTokens.unspend(record.tenantId, record.id, at);
      throw err;
    }
    // Following the link proved control of the mailbox.
    if (!user.emailVerifiedAt) await this.d.users.update(record.tenantId, user.id, { emailVerifiedAt: at }, at);
    await this.d.audit.record({ action: 'auth.password.reset', actor: user.id, tenant: user.tenantSlug, target: user.id, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent });
    await this.d.auth.revokeAllSessions(record.tenantId, user.id, 'password_reset', user.id, meta);
  }
}
