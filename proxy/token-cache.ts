// Bounded LRU of verified access tokens keyed by the token string, so a repeat caller costs a Map lookup
// instead of a signature verification. An entry never outlives the token's own `exp`; the revocation
// check is NOT cached (check-revocation runs on every request, hit or miss).
import type { Clock } from '../core/clock.js';
import type { VerifiedToken } from '../core/tokens/token.service.js';

class Entry {
  constructor(
    readonly claims: VerifiedToken,
    /** ms since epoch after which the entry is dead (the token's exp). */
    readonly expiresAt: number,
    /** The cache's insertion counter when this entry was last (re)inserted. */
    public stamp: number,
  ) {}
}

export class TokenCache {
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  private readonly entries = new Map<string, Entry>();
  private stamp = 0;
  /** A hit moves its entry to the recent end only once it is this many insertions old (see get). */
  private readonly moveAfter: number;

  constructor(
    private readonly maxEntries: number,
    private readonly clock: Clock,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new TypeError('maxEntries must be a non-negative integer');
    this.moveAfter = maxEntries >> 1;
  }

  get(token: string): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    // Strictly before exp: the cache must never accept a token the verifier would now reject.
    if (this.clock.now() >= entry.expiresAt) {
      this.entries.delete(token);
      return undefined;
    }
    // A hot token is not deleted and re-inserted on every request (a Map delete + insert per hit was 10× the
    // lookup, issue 9: bench/token-verify.ts); it moves to the recent end once half the cache was inserted
    // after it, so an entry hit at least that often is never the one evicted (approximate LRU).
    if (this.stamp - entry.stamp >= this.moveAfter) {
      this.entries.delete(token);
      entry.stamp = ++this.stamp;
      this.entries.set(token, entry);
    }
    return entry.claims;
  }

  set(token: string, claims: VerifiedToken): void {
    if (this.maxEntries === 0) return;
    const expiresAt = claims.exp * 1000;
    if (this.clock.now() >= expiresAt) return;
    this.entries.delete(token);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(token, new Entry(claims, expiresAt, ++this.stamp));
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
