// Purges sessions (and their refresh tokens) that ended — revoked, idle-expired or past their absolute
// lifetime — longer ago than `tokens.session_retention`, and expired one-time email tokens. History
// within retention stays for audit.
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { SessionRepository } from '../repositories/session.repository.js';

export interface SessionCleanupDeps {
  sessions: SessionRepository;
  clock: Clock;
  retentionMs: number;
  logger?: Logger;
  /** Expired one-time email tokens (reset / verification) are deleted in the same pass. */
  emailTokens?: { purgeExpired(before: Date): Promise<number> };
}

export interface CleanupResult {
  /** Sessions deleted (their refresh tokens went with them). */
  purged: number;
  /** Sessions that ended before this instant were purged (ISO 8601). */
  before: string;
}

export class SessionCleanup {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CleanupResult> | undefined;

  constructor(private readonly d: SessionCleanupDeps) {}

  /** One pass; concurrent calls share it. The CLI calls this directly (`authctl sessions cleanup`). */
  run(): Promise<CleanupResult> {
    this.running ??= (async () => {
      try {
        const before = new Date(this.d.clock.now() - this.d.retentionMs);
        const purged = await this.d.sessions.purgeEndedBefore(before);
        if (purged > 0) this.d.logger?.info({ purged, before: before.toISOString() }, 'purged ended sessions');
        const tokens = (await this.d.emailTokens?.purgeExpired(new Date(this.d.clock.now()))) ?? 0;
        if (tokens > 0) this.d.logger?.info({ purged: tokens }, 'purged expired email tokens');
        return { purged, before: before.toISOString() };
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Runs every `intervalMs` on an unref'd timer (it never keeps the process alive); first run after one interval. */
  schedule(intervalMs = 3_600_000): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.run().catch((err: unknown) => this.d.logger?.warn({ err }, 'session cleanup failed'));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
