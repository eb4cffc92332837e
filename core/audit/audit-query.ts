// Reading and maintaining the audit trail: filtered listing with a seq cursor (admin API, authctl audit
// list), export as JSON Lines, chain verification from the latest anchor, retention purge that leaves an
// anchor (and an `audit.purged` row attesting it), and the GDPR erase of a user's personal data.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { Errors, type FieldError } from '../errors.js';
import type { AuditRepository } from '../repositories/audit.repository.js';
import { ACTION_FILTER } from './audit-actions.js';
import { ChainWalker, GENESIS_HASH, type ChainProblem } from './audit-chain.js';
import { appendRow, auditUnavailable, prepareRow, toAuditView, type AuditEventView } from './chained-audit-log.js';

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 1000;
const SCAN_BATCH = 1000;

export interface AuditListQuery {
  tenant?: string | undefined;
  user?: string | undefined;
  action?: string | undefined;
  /** ISO-8601 time or a Date. */
  since?: string | Date | undefined;
  limit?: number | string | undefined;
  /** Opaque cursor from a previous page (`next_cursor`). */
  cursor?: string | undefined;
}

export interface AuditPage {
  events: AuditEventView[];
  /** Pass as `cursor` for the next (older) page; null when this was the last. */
  next_cursor: string | null;
}

export interface VerifyReport {
  ok: boolean;
  /** Rows checked. */
  rows: number;
  /** Where the walk started: the latest retention anchor, or genesis (seq 0). */
  start: { seq: number; hash: string; anchored: boolean };
  /** The last verified row (compare with an external copy, e.g. the SIEM, to detect truncation). */
  head: { seq: number; hash: string };
  problem: ChainProblem | null;
}

export interface PurgeResult {
  purged: number;
  /** The anchor written (null when nothing was old enough). */
  anchor: { seq: number; hash: string } | null;
  cutoff: string;
}

export interface AuditQueryDeps {
  repo: AuditRepository;
  clock: Clock;
  logger: Logger;
  retentionMs: number;
}

/** Parsed, validated filters; bad input is a 400 naming each field (never a 500). */
export function parseAuditFilters(q: AuditListQuery): { tenant?: string; user?: string; action?: string; since?: Date; limit: number; beforeSeq?: number } {
  const errors: FieldError[] = [];
  const out: { tenant?: string; user?: string; action?: string; since?: Date; limit: number; beforeSeq?: number } = { limit: DEFAULT_LIST_LIMIT };
  if (q.tenant !== undefined && q.tenant !== '') out.tenant = q.tenant;
  if (q.user !== undefined && q.user !== '') {
    if (q.user.length > 128) errors.push({ field: 'user', message: 'must be at most 128 characters' });
    else out.user = q.user;
  }
  if (q.action !== undefined && q.action !== '') {
    if (!ACTION_FILTER.test(q.action) || q.action.length > 64)
      errors.push({ field: 'action', message: 'must be an action name (auth.login.failed) or a prefix ending in .* (auth.*)' });
    else out.action = q.action;
  }
  if (q.since !== undefined && q.since !== '') {
    const since = q.since instanceof Date ? q.since : /^\d{4}-\d{2}-\d{2}/.test(q.since) ? new Date(q.since) : new Date(NaN);
    if (Number.isNaN(since.getTime())) errors.push({ field: 'since', message: 'must be an ISO-8601 date or time' });
    else out.since = since;
  }
  if (q.limit !== undefined && q.limit !== '') {
    const n = typeof q.limit === 'number' ? q.limit : /^\d{1,7}$/.test(q.limit) ? Number(q.limit) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIST_LIMIT) errors.push({ field: 'limit', message: `must be an integer from 1 to ${MAX_LIST_LIMIT}` });
    else out.limit = n;
  }
  if (q.cursor !== undefined && q.cursor !== '') {
    if (!/^\d{1,15}$/.test(q.cursor)) errors.push({ field: 'cursor', message: 'is not a cursor returned by this API' });
    else out.beforeSeq = Number(q.cursor);
  }
  if (errors.length) throw Errors.validation(errors, 'Invalid audit query.');
  return out;
}

export class AuditQuery {
  constructor(private readonly d: AuditQueryDeps) {}

  /** Newest first. */
  async list(q: AuditListQuery): Promise<AuditPage> {
    const f = parseAuditFilters(q);
    const rows = await this.d.repo.list({ ...f, limit: f.limit + 1, order: 'desc' });
    const page = rows.slice(0, f.limit);
    const last = page[page.length - 1];
    return { events: page.map(toAuditView), next_cursor: rows.length > f.limit && last ? String(last.seq) : null };
  }

  /** Oldest first, every matching row, in batches (memory stays bounded for any table size). */
  async *export(q: Omit<AuditListQuery, 'limit' | 'cursor'>): AsyncGenerator<AuditEventView> {
    const f = parseAuditFilters(q);
    let after = 0;
    for (;;) {
      const rows = await this.d.repo.list({ tenant: f.tenant, user: f.user, action: f.action, since: f.since, afterSeq: after, limit: SCAN_BATCH, order: 'asc' });
      for (const row of rows) yield toAuditView(row);
      const last = rows[rows.length - 1];
      if (!last || rows.length < SCAN_BATCH) return;
      after = last.seq;
    }
  }

  /** Walks the whole chain from the latest anchor; stops at the first problem. */
  async verify(): Promise<VerifyReport> {
    const anchor = await this.d.repo.latestAnchor();
    const start = anchor ? { seq: anchor.seq, hash: anchor.hash, anchored: true } : { seq: 0, hash: GENESIS_HASH, anchored: false };
    const walker = new ChainWalker(start);
    // The anchor itself is attested by the `audit.purged` row the purge appended after it.
    let attested = !anchor;
    let after = start.seq;
    for (;;) {
      const rows = await this.d.repo.scan(after, SCAN_BATCH);
      for (const row of rows) {
        if (!walker.push(row)) break;
        if (!attested && row.action === 'audit.purged') {
          const d = row.details as { through_seq?: unknown; anchor_hash?: unknown };
          attested = d.through_seq === anchor?.seq && d.anchor_hash === anchor?.hash;
        }
      }
      const last = rows[rows.length - 1];
      if (walker.problem || !last || rows.length < SCAN_BATCH) break;
      after = last.seq;
    }
    let problem = walker.problem;
    if (!problem && !attested && anchor)
      problem = { kind: 'anchor_unattested', seq: anchor.seq, id: null, message: `anchor at seq ${anchor.seq}: no audit.purged row attests it — the anchor was forged or its row deleted` };
    return { ok: problem === null, rows: walker.rows, start, head: walker.head, problem };
  }

  /**
   * Deletes rows older than the retention period. The seq and hash of the last deleted row become an
   * anchor, and an `audit.purged` row carrying the same values is appended in the same locked
   * transaction, so verify can start at the anchor and a forged anchor is noticed.
   */
  async purge(actor: string, options: { retentionMs?: number; recordWhenEmpty?: boolean } = {}): Promise<PurgeResult> {
    const now = new Date(this.d.clock.now());
    const cutoff = new Date(now.getTime() - (options.retentionMs ?? this.d.retentionMs));
    let result: PurgeResult;
    try {
      result = await this.d.repo.appendLocked(async (scope) => {
        const boundary = await scope.purgeBoundary(cutoff);
        if (!boundary && !options.recordWhenEmpty) return { purged: 0, anchor: null, cutoff: cutoff.toISOString() };
        const purged = boundary ? await scope.purgeThrough(boundary, now) : 0;
        const anchor = boundary ? { seq: boundary.seq, hash: boundary.hash } : null;
        const details = { purged, cutoff: cutoff.toISOString(), ...(anchor ? { through_seq: anchor.seq, anchor_hash: anchor.hash } : {}) };
        const row = await appendRow(scope, prepareRow({ action: 'audit.purged', actor, tenant: null, target: null, outcome: 'success', details }, now));
        this.d.logger.info({ audit: toAuditView(row), persisted: true }, 'audit audit.purged');
        return { purged, anchor, cutoff: cutoff.toISOString() };
      });
    } catch (err) {
      throw (err as { code?: string }).code === 'ERR_UNAVAILABLE' ? auditUnavailable(err) : err;
    }
    return result;
  }

  /** GDPR erase: the user's ip/user agent/personal fields go; ids, actions and the chain stay verifiable. */
  erasePersonalData(userId: string): Promise<number> {
    return this.d.repo.erasePersonalData(userId);
  }
}

/** Runs the retention purge periodically (server); overlapping runs on replicas serialise on the lock. */
export function startAuditRetention(query: AuditQuery, logger: Logger, intervalMs: number): () => void {
  const run = () => {
    query.purge('system').then(
      (r) => r.purged && logger.info({ purged: r.purged, anchor: r.anchor }, 'audit retention purge'),
      (err: unknown) => logger.error({ err }, 'audit retention purge failed'),
    );
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
