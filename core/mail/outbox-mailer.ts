// The embedded default when no SMTP_URL is set: renders each message with nodemailer's streamTransport
// and writes it as an .eml file under config.mail.outbox_dir. The files hold live links, so they are
// created owner-read/write only, and the log line names the file — never the link or token.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Logger } from '../logger.js';
import type { Mailer, MailDelivery, MailMessage } from './mailer.js';
import { MESSAGE_DEFAULTS } from './mailer.js';

export interface OutboxMailerOptions {
  dir: string;
  from: string;
  /** Injected clock (ms) for the file-name timestamp. */
  now: () => number;
}

export function createOutboxMailer(options: OutboxMailerOptions, logger: Logger): Mailer {
  const dir = resolve(options.dir);
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    kind: 'outbox',
    async send(message: MailMessage): Promise<MailDelivery> {
      const info = await transport.sendMail({ ...MESSAGE_DEFAULTS, from: options.from, ...message });
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // Sortable and unique: ISO time (file-name safe) plus random suffix.
      const stamp = new Date(options.now()).toISOString().replace(/[:.]/g, '-');
      const file = join(dir, `${stamp}-${randomBytes(4).toString('hex')}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      logger.info({ file, messageId: info.messageId }, 'mail written to the outbox (no SMTP_URL configured)');
      return { messageId: String(info.messageId), destination: file };
    },
    close() {
      transport.close();
    },
  };
}
