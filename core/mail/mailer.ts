// The Mailer contract used by the email flows, and the factory that picks SMTP (SMTP_URL) or the
// embedded outbox (one .eml file per message) from config.mail.
import type { Logger } from '../logger.js';
import { createOutboxMailer } from './outbox-mailer.js';
import { createSmtpMailer } from './smtp-mailer.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailDelivery {
  messageId: string;
  /** Where the message went: `smtp` or the outbox file path. */
  destination: string;
}

export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  /** Sends one message; rejects when the transport fails (the caller decides about retries). */
  send(message: MailMessage): Promise<MailDelivery>;
  close(): void;
}

export interface MailerSettings {
  smtpUrl: string | undefined;
  from: string;
  outboxDir: string;
  now: () => number;
}

export function createMailer(settings: MailerSettings, logger: Logger): Mailer {
  return settings.smtpUrl
    ? createSmtpMailer({ url: settings.smtpUrl, from: settings.from })
    : createOutboxMailer({ dir: settings.outboxDir, from: settings.from, now: settings.now }, logger);
}

/**
 * Pins the body encoding to quoted-printable so every message has the same shape whatever the
 * content (nodemailer would otherwise pick 7bit/QP/base64 per part).
 */
export const MESSAGE_DEFAULTS = { textEncoding: 'quoted-printable' } as const;
