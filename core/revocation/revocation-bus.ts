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
  pollIntervalMs?: number;
  onError?: (err: unknown) => void;
}

export class LocalRevocationBus implements RevocationBus {
  readonly mode: string = 'local';
  protected readonly set: RevocationSet;
  private readonly listeners = new Set<(event: RevocationEvent) => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastPoll = 0;

  constructor(protected readonly options: LocalBusOptions) {
    this.set = new RevocationSet(options.retentionMs, () => options.clock.now());
  }

  /** Applies events to the local set and notifies listeners; returns those that were new. */
  protected apply(events: readonly RevocationEvent[]): RevocationEvent[] {
    const fresh: RevocationEvent[] = [];
    for (const e of events) if (this.set.add(e)) fresh.push(e);
    for (const e of fresh) for (const l of this.listeners) l(e);
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
    if (!this.options.source) return;
    const since = this.options.clock.now() - this.options.retentionMs;
    const startedAt = this.options.clock.now();
    this.apply(await this.options.source(since));
    this.lastPoll = startedAt;
  }

  private async poll(): Promise<void> {
    if (!this.options.source) return;
    // Overlap the window by 2 s so a row committed while the last poll ran is not missed.
    const since = this.lastPoll - 2000;
    const startedAt = this.options.clock.now();
    this.apply(await this.options.source(since));
    this.lastPoll = startedAt;
    this.set.sweep();
  }

  async start(): Promise<void> {
    await this.reconcile().catch((err: unknown) => this.options.onError?.(err));
    const interval = this.options.pollIntervalMs ?? 0;
    if (interval > 0 && this.options.source) {
      let running = false;
      this.timer = setInterval(() => {
        if (running) return;
        running = true;
        this.poll()
          .catch((err: unknown) => this.options.onError?.(err))
          .finally(() => {
            running = false;
          });
      }, interval);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
