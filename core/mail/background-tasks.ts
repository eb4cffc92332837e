// Work done after the HTTP answer has gone out (the reset/verify request endpoints answer 202 before
// looking the account up, so timing cannot tell whether it exists). Tracked so shutdown and tests can
// wait for it; failures are logged, never thrown at a caller that has already been answered.
import type { Logger } from '../logger.js';

export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  run(label: string, task: () => Promise<void>): void {
    const p = (async () => {
      // Yield first so the caller's response is written before any lookup starts.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await task();
    })().catch((err: unknown) => {
      const e = err instanceof Error ? { message: err.message, code: (err as { code?: unknown }).code } : { message: String(err) };
      this.logger.error({ task: label, err: e }, 'background task failed');
    });
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Resolves when every task started so far (and any they started) has finished. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
