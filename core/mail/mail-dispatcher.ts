// Delivery with a bounded in-process retry (option (a) of issue 11): the first attempt runs at once;
// a failure is logged (never the link) and retried with exponential backoff up to
// config.mail.retry_attempts. Pending retries live in memory only: a restart drops them, which is
// logged on close — the user can simply ask again (the request endpoints are idempotent).
import type { Logger } from '../logger.js';
import type { Mailer, MailDelivery, MailMessage } from './mailer.js';

export interface DispatchMeta {
  purpose: 'reset' | 'verify';
  userId: string;
  tenant: string;
}

export interface DispatchSettings {
  attempts: number;
  backoffMs: number;
}

const MAX_BACKOFF_MS = 3_600_000;

function describeError(err: unknown): { code?: string; message: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { ...(typeof code === 'string' ? { code } : {}), message: err.message };
  }
  return { message: String(err) };
}

export class MailDispatcher {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    readonly mailer: Mailer,
    private readonly logger: Logger,
    private readonly settings: DispatchSettings,
  ) {}

  /** Delay before attempt n+1 after attempt n failed: backoff, 2×backoff, 4×backoff… capped at 1 h. */
  delayAfter(attempt: number): number {
    return Math.min(this.settings.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  }

  /**
   * Makes the first attempt and resolves when it is over; on failure a retry is scheduled and this
   * still resolves (false). Never rejects.
   */
  dispatch(message: MailMessage, meta: DispatchMeta): Promise<boolean> {
    return this.attempt(message, meta, 1);
  }

  /** One attempt, errors propagate (authctl: the operator sees the failure, no background retry). */
  sendNow(message: MailMessage): Promise<MailDelivery> {
    return this.mailer.send(message);
  }

  /** Messages waiting for a retry. */
  pendingRetries(): number {
    return this.timers.size;
  }

  /** Resolves when no attempt is running (scheduled retries are not waited for). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private attempt(message: MailMessage, meta: DispatchMeta, n: number): Promise<boolean> {
    const run = (async () => {
      try {
        const delivery = await this.mailer.send(message);
        this.logger.info(
          { purpose: meta.purpose, user: meta.userId, tenant: meta.tenant, attempt: n, messageId: delivery.messageId, transport: this.mailer.kind },
          n === 1 ? 'mail sent' : 'mail sent after retry',
        );
        return true;
      } catch (err) {
        const base = { purpose: meta.purpose, user: meta.userId, tenant: meta.tenant, attempt: n, of: this.settings.attempts, err: describeError(err) };
        if (n >= this.settings.attempts || this.closed) {
          this.logger.error(base, 'mail delivery failed; giving up (the user can request a new link)');
          return false;
        }
        const delay = this.delayAfter(n);
        this.logger.warn({ ...base, retry_in_ms: delay }, 'mail delivery failed; will retry');
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          void this.attempt(message, meta, n + 1);
        }, delay);
        this.timers.add(timer);
        return false;
      }
    })();
    this.inflight.add(run);
    void run.finally(() => this.inflight.delete(run));
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    const dropped = this.timers.size;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.idle();
    if (dropped > 0) this.logger.warn({ dropped }, 'shutting down with undelivered mail; those links were never sent');
    this.mailer.close();
  }
}
