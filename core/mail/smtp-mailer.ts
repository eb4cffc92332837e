// Real SMTP delivery through nodemailer. The URL (smtp:// or smtps://, credentials, nodemailer query
// options such as ?ignoreTLS=true or ?requireTLS=true) comes from config.mail.smtp_url and is never logged.
import nodemailer from 'nodemailer';
import type { Mailer, MailDelivery, MailMessage } from './mailer.js';
import { MESSAGE_DEFAULTS } from './mailer.js';

export interface SmtpMailerOptions {
  url: string;
  from: string;
}

export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  // Short timeouts: a hung relay must fail the attempt (and go to the retry path), not hold it for minutes.
  const transport = nodemailer.createTransport({
    url: options.url,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    kind: 'smtp',
    async send(message: MailMessage): Promise<MailDelivery> {
      const info = await transport.sendMail({ ...MESSAGE_DEFAULTS, from: options.from, ...message });
      return { messageId: String(info.messageId), destination: 'smtp' };
    },
    close() {
      transport.close();
    },
  };
}
