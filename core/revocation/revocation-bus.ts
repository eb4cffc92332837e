// The revocation bus contract: revocations are published by whichever process makes them and reach
// every authgate process's RevocationSet. LocalRevocationBus is in-process plus a database poll.
import type { Clock } from '../clock.js';
import { RevocationSet, type RevocationEvent } from './revocation-set.js';

export interface RevocationBus {
  publish(events: readonly RevocationEvent[]): Promise<void>;
  isRevoked(sid: string, sub: string, tenant: string, iatSeconds: number): boolean;
  /** Listeners run for every revocation this process learns about (live connection cut-off uses it). */
  onRevoked(listener: (event: RevocationEvent) => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly mode: string;
}

/** Reads revocations recorded in the database since a time (sessions, disabled users/tenants). */
export type RevocationSource = (sinceMs: number) => Promise<RevocationEvent[]>;

export interface LocalBusOptions {
  clock: Clock;
  retentionMs: number;
  source?: RevocationSource;
  /** Database poll interval (ms); 0 disables polling (the CLI, which only publishes). */
  pollIntervalMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * How far each poll re-reads before the previous one. revoked_at / disabled_at are written with the
 * revoking process's clock and committed a moment later, so a poll window that starts exactly at the
 * last poll misses rows from a process whose clock is a little behind or whose commit was slow.
 * Re-reading is cheap: RevocationSet.add ignores what it already holds.
 */
export const POLL_OVERLAP_MS = 10_000;

export class LocalRevocationBus implements RevocationBus {
  readonly mode: string = 'local';
  protected readonly set: RevocationSet;
  private readonly listeners = new Set<(event: RevocationEvent) => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastPoll: number | undefined;
  private polling: Promise<void> | undefined;
  protected stopped = false;

  constructor(protected readonly options: LocalBusOptions) {
    this.set = new RevocationSet(options.retentionMs, () => options.clock.now());
  }

  /** Applies events to the local set and notifies listeners; returns those that were new. */
  protected apply(events: readonly RevocationEvent[]): RevocationEvent[] {
    const fresh: RevocationEvent[] = [];
    for (const e of events) if (this.set.add(e)) fresh.push(e);
    for (const e of fresh)
      for (const l of this.listeners) {
        // One failing listener (e.g. a socket that throws on destroy) must not stop the others.
        try {
          l(e);
        } catch (err) {
          this.options.onError?.(err);
        }
      }
    return fresh;
  }

  async publish(events: readonly RevocationEvent[]): Promise<void> {
    this.apply(events);
  }

  isRevoked(sid: string, sub: string, tenant: string, iatSeconds: number): boolean {
    return this.set.isRevoked(sid, sub, tenant, iatSeconds);
  }

  onRevoked(listener: (event: RevocationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads everything revoked within the retention window from the database. */
  async reconcile(): Promise<void> {
    await this.poll(true);
  }

  /**
   * Reads rows changed since the last poll (minus an overlap), never further back than the retention
   * window: older revocations only concern tokens that have expired anyway. Concurrent callers share
   * one run, and a reconcile requested while a poll runs waits for it and then runs its own.
   */
  protected async poll(full = false): Promise<void> {
    const source = this.options.source;
    if (!source) return;
    while (this.polling) await this.polling.catch(() => undefined);
    const run = (async () => {
      const now = this.options.clock.now();
      const floor = now - this.options.retentionMs;
      const since = full || this.lastPoll === undefined ? floor : Math.max(floor, this.lastPoll - POLL_OVERLAP_MS);
      this.apply(await source(since));
      this.lastPoll = now;
      this.set.sweep();
    })();
    this.polling = run;
    try {
      await run;
    } finally {
      if (this.polling === run) this.polling = undefined;
    }
  }

  /** The current poll interval; the Redis bus polls less often while its subscription is healthy. */
  protected pollInterval(): number {
    return this.options.pollIntervalMs ?? 0;
  }

  /** Runs the poll on a self-rescheduling, unref'd timer so a slow database never stacks polls. */
  protected schedulePoll(elapsedMs = 0): void {
    if (this.stopped || !this.options.source) return;
    const interval = this.pollInterval();
    if (interval <= 0) return;
    // Fixed rate: the time the last poll took counts against the interval, so the worst-case delay stays
    // the interval itself rather than interval + query time.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const started = performance.now();
      this.poll()
        .catch((err: unknown) => this.options.onError?.(err))
        .finally(() => this.schedulePoll(performance.now() - started));
    }, Math.max(0, interval - elapsedMs));
    this.timer.unref();
  }

  /** Cancels the pending poll and schedules the next one now (used when the interval changes). */
  protected reschedulePoll(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.schedulePoll();
    }
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.reconcile().catch((err: unknown) => this.options.onError?.(err));
    this.schedulePoll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling?.catch(() => undefined);
  }
}
