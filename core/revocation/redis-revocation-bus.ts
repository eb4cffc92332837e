// Revocation bus over Redis pub/sub: every process publishes what it revokes on one channel and applies
// what it receives. The database stays the source of truth: a reconcile runs at start and after every
// Redis reconnect, and a poll keeps running (faster while Redis is down) so nothing can be missed.
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis.js';
import { LocalRevocationBus, type LocalBusOptions } from './revocation-bus.js';
import type { RevocationEvent, RevocationKind } from './revocation-set.js';

export const REVOCATION_CHANNEL = 'authgate:revocations';

export interface RedisBusOptions extends LocalBusOptions {
  /** Creates a connection; called once for the publisher and (on start) once for the subscriber. */
  connect: (role: 'publisher' | 'subscriber') => RedisClient;
  /** Pub/sub channel (default authgate:revocations); installations sharing one Redis use different ones. */
  channel?: string;
  /** Poll interval while the subscription is healthy (safety net); default 5000 ms. */
  healthyPollMs?: number;
  /** Poll interval while Redis is unreachable (the only path then); default 1000 ms. */
  degradedPollMs?: number;
  /** How long publish waits for Redis before giving up (the DB row is already written); default 1000 ms. */
  publishTimeoutMs?: number;
  /** Called after each reconcile that followed a (re)subscription; tests wait on it. */
  onReconciled?: () => void;
}

interface Envelope {
  v: 1;
  origin: string;
  events: RevocationEvent[];
}

const KINDS: ReadonlySet<string> = new Set<RevocationKind>(['session', 'user', 'tenant']);

/** Accepts only well-formed envelopes: anyone who can publish to Redis should not crash the process. */
export function parseEnvelope(raw: string): Envelope | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const env = value as Partial<Envelope>;
  if (env.v !== 1 || typeof env.origin !== 'string' || !Array.isArray(env.events)) return null;
  const events: RevocationEvent[] = [];
  for (const e of env.events as unknown[]) {
    if (typeof e !== 'object' || e === null) continue;
    const { kind, id, at, reason } = e as Record<string, unknown>;
    if (typeof kind !== 'string' || !KINDS.has(kind) || typeof id !== 'string' || id.length === 0 || id.length > 200) continue;
    if (typeof at !== 'number' || !Number.isFinite(at)) continue;
    events.push({ kind: kind as RevocationKind, id, at, reason: typeof reason === 'string' ? reason.slice(0, 64) : 'revoked' });
  }
  return { v: 1, origin: env.origin, events };
}

export class RedisRevocationBus extends LocalRevocationBus {
  override readonly mode: string = 'redis';
  readonly channel: string;
  private readonly origin = randomUUID();
  private publisher: RedisClient | undefined;
  private subscriber: RedisClient | undefined;
  private subscribed = false;

  constructor(private readonly redisOptions: RedisBusOptions) {
    super(redisOptions);
    this.channel = redisOptions.channel ?? REVOCATION_CHANNEL;
  }

  /** True while the subscription is live (revocations from other processes arrive in milliseconds). */
  get healthy(): boolean {
    return this.subscribed;
  }

  protected override pollInterval(): number {
    if (this.options.source === undefined || (this.options.pollIntervalMs ?? 0) <= 0) return 0;
    return this.subscribed ? (this.redisOptions.healthyPollMs ?? 5000) : (this.redisOptions.degradedPollMs ?? 1000);
  }

  /**
   * Applies locally first (this process enforces at once), then publishes. A Redis failure is logged,
   * not thrown: the revocation is already committed to the database and every process's poll reads it.
   */
  override async publish(events: readonly RevocationEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.apply(events);
    const body = JSON.stringify({ v: 1, origin: this.origin, events: [...events] } satisfies Envelope);
    this.publisher ??= this.redisOptions.connect('publisher');
    const publisher = this.publisher;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis publish timed out')), this.redisOptions.publishTimeoutMs ?? 1000);
    });
    try {
      await Promise.race([publisher.publish(this.channel, body), timeout]);
    } catch (err) {
      this.options.onError?.(err);
    } finally {
      clearTimeout(timer);
    }
  }

  override async start(): Promise<void> {
    this.stopped = false;
    const sub = this.redisOptions.connect('subscriber');
    this.subscriber = sub;
    sub.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const env = parseEnvelope(message);
      if (env && env.origin !== this.origin) this.apply(env.events);
    });
    sub.on('close', () => {
      if (!this.subscribed) return;
      this.subscribed = false;
      // Redis is gone: poll at the fast interval until the subscription is back.
      this.reschedulePoll();
    });
    // On every (re)connect: subscribe first and only then read the database. A revocation committed
    // before the SUBSCRIBE was acknowledged is in the read; one published after it arrives by message.
    sub.on('ready', () => {
      void this.resubscribe(sub);
    });
    // The first reconcile must not wait for Redis: start with the database so a process that starts
    // while Redis is down still enforces everything, then poll at the degraded rate until subscribed.
    await this.reconcile().catch((err: unknown) => this.options.onError?.(err));
    this.schedulePoll();
  }

  private async resubscribe(sub: RedisClient): Promise<void> {
    try {
      await sub.subscribe(this.channel);
      if (this.stopped) return;
      await this.reconcile();
      this.subscribed = true;
      this.reschedulePoll();
      this.redisOptions.onReconciled?.();
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.subscribed = false;
    const clients = [this.subscriber, this.publisher].filter((c): c is RedisClient => c !== undefined);
    this.subscriber = undefined;
    this.publisher = undefined;
    // quit() waits for Redis; when it is down disconnect() is the only way to stop the reconnect loop.
    await Promise.all(clients.map((c) => (c.status === 'ready' ? c.quit().then(() => undefined, () => c.disconnect()) : c.disconnect())));
  }
}
