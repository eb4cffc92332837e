// The hash chain (pure functions): canonical JSON of a row, its SHA-256 link to the previous row, the
// digest that commits to the erasable personal data, and the walk that `authctl audit verify` runs.
import { createHash } from 'node:crypto';

/** prev_hash of the first row ever written (no anchor yet). */
export const GENESIS_HASH = '0'.repeat(64);

/** Everything hashed for one row: ids and facts, never personal data (only its salted digest). */
export interface ChainedFields {
  seq: number;
  id: string;
  time: Date;
  actor: string;
  tenant: string | null;
  action: string;
  target: string | null;
  outcome: string;
  details: unknown;
  pii_digest: string | null;
}

/** The erasable part of a row. `salt` makes the digest useless for guessing an erased IP or email. */
export interface PersonalData {
  salt: string;
  ip: string | null;
  user_agent: string | null;
  fields: Record<string, unknown> | null;
}

export interface StoredRow extends ChainedFields {
  prev_hash: string;
  hash: string;
  /** null once erased (or never present). */
  personal: PersonalData | null;
}

/** JSON with object keys sorted at every depth and Dates as ISO-8601 strings (RFC 8785-style ordering). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortValue(value));
}

function sortValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(sortValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortValue(v);
    }
    return out;
  }
  return value;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export function personalDigest(p: PersonalData): string {
  return sha256(canonicalJson({ salt: p.salt, ip: p.ip, user_agent: p.user_agent, fields: p.fields }));
}

/** hash = SHA-256(prev_hash || canonical JSON of the row without its hash). */
export function rowHash(prevHash: string, row: ChainedFields): string {
  return sha256(
    prevHash +
      canonicalJson({
        seq: row.seq,
        id: row.id,
        time: row.time,
        actor: row.actor,
        tenant: row.tenant,
        action: row.action,
        target: row.target,
        outcome: row.outcome,
        details: row.details,
        pii_digest: row.pii_digest,
        prev_hash: prevHash,
      }),
  );
}

export type ChainProblemKind = 'gap' | 'broken_link' | 'hash_mismatch' | 'personal_data_mismatch' | 'anchor_unattested';

export interface ChainProblem {
  kind: ChainProblemKind;
  seq: number;
  id: string | null;
  message: string;
}

export interface ChainStart {
  /** seq of the last row before the walk (anchor seq, or 0). */
  seq: number;
  hash: string;
}

/**
 * Incremental verifier: feed rows in seq order; the first problem is kept. Checks, per row: no seq gap
 * (a deleted row), prev_hash equals the previous row's hash (a re-linked row), the stored hash matches
 * the recomputed one (an edited row), and the personal data still matches its digest unless erased.
 */
export class ChainWalker {
  private expectedSeq: number;
  private prevHash: string;
  problem: ChainProblem | null = null;
  rows = 0;

  constructor(start: ChainStart) {
    this.expectedSeq = start.seq + 1;
    this.prevHash = start.hash;
  }

  get head(): ChainStart {
    return { seq: this.expectedSeq - 1, hash: this.prevHash };
  }

  /** Returns false once a problem was found (stop walking). */
  push(row: StoredRow): boolean {
    if (this.problem) return false;
    this.rows += 1;
    const name = `row seq ${row.seq} (id ${row.id})`;
    if (row.seq !== this.expectedSeq) {
      const missing = row.seq > this.expectedSeq ? `seq ${this.expectedSeq}${row.seq - 1 > this.expectedSeq ? `..${row.seq - 1}` : ''} missing (deleted?)` : 'seq out of order';
      return this.fail('gap', row, `${name}: gap before it — ${missing}`);
    }
    if (row.prev_hash !== this.prevHash) return this.fail('broken_link', row, `${name}: prev_hash does not match the hash of seq ${row.seq - 1}`);
    if (rowHash(row.prev_hash, row) !== row.hash) return this.fail('hash_mismatch', row, `${name}: hash mismatch — the row was modified`);
    if (row.personal ? row.pii_digest !== personalDigest(row.personal) : false)
      return this.fail('personal_data_mismatch', row, `${name}: ip/user agent/personal fields do not match their digest — modified`);
    this.expectedSeq = row.seq + 1;
    this.prevHash = row.hash;
    return true;
  }

  private fail(kind: ChainProblemKind, row: StoredRow, message: string): false {
    this.problem = { kind, seq: row.seq, id: row.id, message };
    return false;
  }
}
