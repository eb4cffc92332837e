// Email verification by emailed one-time link (SPEC §3): sent at registration (AuthService's
// onUserRegistered hook) and on request; confirming sets email_verified_at, which the
// REQUIRE_VERIFIED_EMAIL login gate checks.
import { AppError } from '../errors.js';
import { normalizeEmail } from '../domain/email.js';
import type { User } from '../domain/types.js';
import { emailVerificationMail, type LinkMailInput } from '../mail/templates.js';
import type { MailMessage } from '../mail/mailer.js';
import type { AuthContext, RequestMeta } from './auth.service.js';
import { DEFAULT_TENANT } from './tenant-directory.js';
import { EmailTokenFlow, type IssuedLink } from './email-token-flow.js';

export const invalidVerifyToken = (): AppError =>
  new AppError('ERR_VERIFY_TOKEN_INVALID', 400, 'Invalid verification link', { detail: 'The verification link is invalid, already used or expired. Ask for a new one.' });

export class EmailVerificationService extends EmailTokenFlow {
  protected readonly purpose = 'verify' as const;
  protected get ttlMs(): number {
    return this.d.settings.verifyTtlMs;
  }
  protected get path(): string {
    return this.d.settings.verifyPath;
  }
  protected render(input: LinkMailInput): MailMessage {
    return emailVerificationMail(input);
  }

  /** AuthService hook: never blocks or fails the registration (SMTP trouble goes to the retry path). */
  onUserRegistered(user: User, meta: RequestMeta): Promise<void> {
    this.d.background.run('verify-email-at-registration', () => this.sendTo(user, meta));
    return Promise.resolve();
  }

  /** `POST …/verify-email/request` with a bearer token: the caller's own address. */
  requestForSession(ctx: AuthContext, meta: RequestMeta): void {
    const { sub, tid } = ctx.claims;
    this.d.background.run('verify-email-request', async () => {
      const tenant = await this.d.tenants.findBySlug(tid);
      if (!tenant) return;
      const user = await this.d.users.findById(tenant.id, sub);
      if (user) await this.sendTo(user, meta);
    });
  }

  /** `POST …/verify-email/request {email, tenant?}`: answered 202 before the lookup, like reset. */
  requestForEmail(input: { email: string; tenant?: string | undefined }, meta: RequestMeta): void {
    const email = normalizeEmail(input.email);
    const tenantSlug = input.tenant ?? DEFAULT_TENANT;
    this.d.background.run('verify-email-request', async () => {
      const tenant = await this.d.tenants.findBySlug(tenantSlug);
      if (!tenant || tenant.disabledAt) return;
      const user = await this.d.users.findByEmail(tenant.id, email);
      if (user) await this.sendTo(user, meta);
    });
  }

  /** Operator path, the verification twin of PasswordResetService.requestForUser. */
  requestForUser(user: User, options: { print: boolean; actor?: string }): Promise<IssuedLink> {
    void options.actor;
    return this.issueForOperator(user, options.print);
  }

  async confirm(token: string, meta: RequestMeta): Promise<void> {
    const record = await this.findUsable(token);
    if (!record) throw invalidVerifyToken();
    const user = await this.d.users.findById(record.tenantId, record.userId);
    if (!user) throw invalidVerifyToken();
    const at = this.now();
    if (!(await this.d.emailTokens.spend(record.tenantId, record.id, 'verify', at))) throw invalidVerifyToken();
    if (!user.emailVerifiedAt) await this.d.users.update(record.tenantId, user.id, { emailVerifiedAt: at }, at);
    await this.d.audit.record({ action: 'auth.email.verified', actor: user.id, tenant: user.tenantSlug, target: user.id, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent });
  }

  /** Already verified and disabled accounts get nothing. */
  private async sendTo(user: User, meta: RequestMeta): Promise<void> {
    if (user.emailVerifiedAt || user.disabledAt) return;
    const sent = await this.issueAndDispatch(user);
    if (sent)
      await this.d.audit.record({ action: 'auth.email.verification_sent', actor: 'system', tenant: user.tenantSlug, target: user.id, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent });
  }
}
