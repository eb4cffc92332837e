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
  ) {}
}

export class TokenCache {
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly clock: Clock,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new TypeError('maxEntries must be a non-negative integer');
  }

  get(token: string): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    this.entries.delete(token);
    // Strictly before exp: the cache must never accept a token the verifier would now reject.
    if (this.clock.now() >= entry.expiresAt) return undefined;
    this.entries.set(token, entry);
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
    this.entries.set(token, new Entry(claims, expiresAt));
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
