// In-memory set of revoked sessions, users and tenants, each entry kept only as long as an access token
// issued before it could still be valid (access TTL + tolerance). Lookups are O(1) on the hot path.

export type RevocationKind = 'session' | 'user' | 'tenant';

export interface RevocationEvent {
  kind: RevocationKind;
  /** Session id, user id, or tenant slug. */
  id: string;
  /** When it was revoked (ms since epoch). Tokens issued at or before this second are rejected. */
  at: number;
  reason: string;
}

export class RevocationSet {
  private readonly entries = new Map<string, number>();
  private lastSweep = 0;

  constructor(
    private readonly retentionMs: number,
    private readonly now: () => number,
  ) {}

  add(event: RevocationEvent): boolean {
    const key = `${event.kind}:${event.id}`;
    const prev = this.entries.get(key);
    if (prev !== undefined && prev >= event.at) return false;
    this.entries.set(key, event.at);
    return true;
  }

  /**
   * A revoked session rejects every token it carries (it cannot mint new ones). A revoked user or
   * tenant rejects tokens issued up to the revocation time, so re-enabling needs no "unrevoke".
   */
  isRevoked(sid: string, sub: string, tenant: string, iatSeconds: number): boolean {
    if (this.entries.size === 0) return false;
    if (this.entries.has(`session:${sid}`)) return true;
    const u = this.entries.get(`user:${sub}`);
    if (u !== undefined && iatSeconds * 1000 <= u) return true;
    const t = this.entries.get(`tenant:${tenant}`);
    return t !== undefined && iatSeconds * 1000 <= t;
  }

  /** Drops entries older than the retention window; cheap enough to call from a timer. */
  sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    const cutoff = now - this.retentionMs;
    for (const [key, at] of this.entries) if (at < cutoff) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
