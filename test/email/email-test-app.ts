// Starts authgate wired to a real SMTP server for the email tests, optionally with a ManualClock and a
// log capture, and closes both afterwards.
import { Writable } from 'node:stream';
import { ManualClock } from '../../core/clock.js';
import type { Core } from '../../core/container.js';
import { createLogger } from '../../core/logger.js';
import { startTestApp, type TestApp, type TestAppOptions } from '../helpers/app.js';
import { startSmtpServer, type SmtpHarness } from './smtp-harness.js';

export const MAIL_FROM = 'Authgate Test <no-reply@authgate.test>';

export interface EmailTestApp {
  app: TestApp;
  url: string;
  core: Core;
  smtp: SmtpHarness | null;
  clock: ManualClock;
  /** Parsed JSON log lines written so far (level info and above unless set). */
  logs: Array<Record<string, unknown>>;
  /** Waits until lookups and first delivery attempts started so far are over. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startEmailApp(
  options: { smtp?: SmtpHarness | null; smtpUrl?: string; config?: TestAppOptions['config']; logLevel?: string } = {},
): Promise<EmailTestApp> {
  const smtp = options.smtp === undefined ? await startSmtpServer() : options.smtp;
  const clock = new ManualClock(Date.now());
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const smtpUrl = options.smtpUrl ?? smtp?.url;
  const config = { ...(options.config ?? {}) };
  config.mail = { from: MAIL_FROM, ...(smtpUrl ? { smtp_url: smtpUrl } : {}), ...(config.mail ?? {}) };
  const app = await startTestApp({ config, clock, logger: createLogger(options.logLevel ?? 'info', sink) });
  const core = app.app.context.core;
  return {
    app,
    url: app.url,
    core,
    smtp,
    clock,
    logs,
    idle: () => core.passwordReset.idle(),
    async close() {
      await app.close();
      await smtp?.close();
    },
  };
}
