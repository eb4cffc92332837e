// Persistence of the audit trail. Appends run inside `appendLocked`, which serialises every writer of the
// database (PostgreSQL: pg_advisory_xact_lock in the insert transaction; SQLite: BEGIN IMMEDIATE, the
// single writer lock) so the chain stays linear across authgate replicas and authctl. No update or
// delete of hashed columns is offered: only retention purge (with an anchor) and personal-data erase.
import { Op, Transaction, col, fn, where, type WhereOptions } from 'sequelize';
import type { Database } from '../db/database.js';
import type { AuditEventModel } from '../db/models/audit-event.model.js';
import { dbCall } from '../db/translate-error.js';
import type { PersonalData, StoredRow } from '../audit/audit-chain.js';

/** Fixed pg_advisory_xact_lock key for audit appends (the migrator uses 724_011_001). */
export const AUDIT_LOCK_KEY = 724_011_007;

export interface AuditAnchor {
  seq: number;
  hash: string;
  rowTime: Date;
  purgedCount: number;
  createdAt: Date;
}

export interface AuditFilter {
  tenant?: string | undefined;
  /** Matches actor or target. */
  user?: string | undefined;
  /** Exact action, or `prefix.*`. */
  action?: string | undefined;
  since?: Date | undefined;
  /** Only rows with seq below this (newest-first paging). */
  beforeSeq?: number | undefined;
  /** Only rows with seq above this (oldest-first paging). */
  afterSeq?: number | undefined;
  limit: number;
  order: 'asc' | 'desc';
}

/** Operations available while holding the append lock. */
export interface AuditAppendScope {
  /** seq and hash of the newest row, else of the newest anchor, else null (empty chain). */
  head(): Promise<{ seq: number; hash: string } | null>;
  insert(row: StoredRow): Promise<void>;
  /** Deletes rows with seq <= through and stores the anchor (seq + hash of row `through`). */
  purgeThrough(through: StoredRow, at: Date): Promise<number>;
  /** Last row with time before `cutoff` such that every earlier row is older too. */
  purgeBoundary(cutoff: Date): Promise<StoredRow | null>;
}

const num = (v: number | string): number => (typeof v === 'number' ? v : Number(v));

const SQLITE_BUSY_RETRIES = 50;

function isSqliteBusy(err: unknown): boolean {
  const e = err as { message?: unknown; original?: { code?: unknown } } | null;
  return e?.original?.code === 'SQLITE_BUSY' || (typeof e?.message === 'string' && e.message.includes('SQLITE_BUSY'));
}

/**
 * SQLite with several processes: `BEGIN IMMEDIATE` can answer SQLITE_BUSY without waiting out
 * busy_timeout (WAL lock contention, measured with two writer processes), so the whole transaction is
 * retried with a short jittered pause. Safe: a busy BEGIN or COMMIT leaves nothing written.
 */
async function retryWhileBusy<T>(dialect: Database['dialect'], run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (dialect !== 'sqlite' || attempt >= SQLITE_BUSY_RETRIES || !isSqliteBusy(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * Math.min(attempt + 1, 10)));
    }
  }
}

function toStored(m: AuditEventModel): StoredRow {
  const hasPersonal = m.pii_salt !== null || m.ip !== null || m.user_agent !== null || m.pii_fields !== null;
  const personal: PersonalData | null = hasPersonal
    ? {
        salt: m.pii_salt ?? '',
        ip: m.ip,
        user_agent: m.user_agent,
        fields: m.pii_fields === null ? null : (JSON.parse(m.pii_fields) as Record<string, unknown>),
      }
    : null;
  return {
    seq: num(m.seq),
    id: m.id,
    time: new Date(m.time),
    actor: m.actor,
    tenant: m.tenant,
    action: m.action,
    target: m.target,
    outcome: m.outcome,
    details: JSON.parse(m.details) as unknown,
    pii_digest: m.pii_digest,
    prev_hash: m.prev_hash,
    hash: m.hash,
    personal,
  };
}

export class AuditRepository {
  /** Appends from this process queue here first, so they never contend for the database lock. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: Database) {}

  appendLocked<T>(fn: (scope: AuditAppendScope) => Promise<T>): Promise<T> {
    const run = () => this.appendUnqueued(fn);
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private appendUnqueued<T>(fn: (scope: AuditAppendScope) => Promise<T>): Promise<T> {
    return dbCall('Audit event', async () => {
      const { sequelize, models, dialect } = this.db;
      // SQLite: IMMEDIATE takes the database's write lock at BEGIN, so two processes cannot both read
      // the same head; the second waits (busy_timeout) and then sees the first one's row.
      const options = dialect === 'sqlite' ? { type: Transaction.TYPES.IMMEDIATE } : {};
      return retryWhileBusy(dialect, () => sequelize.transaction(options, async (transaction) => {
        if (dialect === 'postgres') await sequelize.query('SELECT pg_advisory_xact_lock(:key)', { replacements: { key: AUDIT_LOCK_KEY }, transaction });
        const scope: AuditAppendScope = {
          async head() {
            const last = await models.AuditEvent.findOne({ order: [['seq', 'DESC']], attributes: ['seq', 'hash'], transaction });
            if (last) return { seq: num(last.seq), hash: last.hash };
            const anchor = await models.AuditAnchor.findOne({ order: [['seq', 'DESC']], transaction });
            return anchor ? { seq: num(anchor.seq), hash: anchor.hash } : null;
          },
          async insert(row) {
            await models.AuditEvent.create(
              {
                id: row.id,
                seq: row.seq,
                time: row.time,
                actor: row.actor,
                tenant: row.tenant,
                action: row.action,
                target: row.target,
                outcome: row.outcome,
                details: JSON.stringify(row.details),
                ip: row.personal?.ip ?? null,
                user_agent: row.personal?.user_agent ?? null,
                pii_fields: row.personal?.fields ? JSON.stringify(row.personal.fields) : null,
                pii_salt: row.personal?.salt ?? null,
                pii_digest: row.pii_digest,
                prev_hash: row.prev_hash,
                hash: row.hash,
              },
              { transaction },
            );
          },
          async purgeBoundary(cutoff) {
            const firstKept = await models.AuditEvent.findOne({ where: { time: { [Op.gte]: cutoff } }, order: [['seq', 'ASC']], attributes: ['seq'], transaction });
            const where: WhereOptions = firstKept ? { seq: { [Op.lt]: num(firstKept.seq) } } : {};
            const last = await models.AuditEvent.findOne({ where, order: [['seq', 'DESC']], transaction });
            return last ? toStored(last) : null;
          },
          async purgeThrough(through, at) {
            const count = await models.AuditEvent.destroy({ where: { seq: { [Op.lte]: through.seq } }, transaction });
            await models.AuditAnchor.create({ seq: through.seq, hash: through.hash, row_time: through.time, purged_count: count, created_at: at }, { transaction });
            return count;
          },
        };
        return fn(scope);
      }));
    });
  }

  latestAnchor(): Promise<AuditAnchor | null> {
    return dbCall('Audit anchor', async () => {
      const a = await this.db.models.AuditAnchor.findOne({ order: [['seq', 'DESC']] });
      return a ? { seq: num(a.seq), hash: a.hash, rowTime: new Date(a.row_time), purgedCount: a.purged_count, createdAt: new Date(a.created_at) } : null;
    });
  }

  list(filter: AuditFilter): Promise<StoredRow[]> {
    return dbCall('Audit event', async () => {
      const and: WhereOptions[] = [];
      if (filter.tenant !== undefined) and.push({ tenant: filter.tenant });
      if (filter.user !== undefined) and.push({ [Op.or]: [{ actor: filter.user }, { target: filter.user }] });
      if (filter.action !== undefined && filter.action !== '*') {
        // `auth.*`: LIKE 'auth.%' narrows (action names may contain `_`, a LIKE wildcard, so it can
        // over-match) and substr(...) = 'auth.' makes it exact; no collation-dependent range compare.
        if (filter.action.endsWith('.*')) {
          const prefix = filter.action.slice(0, -1);
          and.push({ action: { [Op.like]: `${prefix}%` } });
          and.push(where(fn('substr', col('action'), 1, prefix.length), prefix));
        } else and.push({ action: filter.action });
      }
      if (filter.since) and.push({ time: { [Op.gte]: filter.since } });
      if (filter.beforeSeq !== undefined) and.push({ seq: { [Op.lt]: filter.beforeSeq } });
      if (filter.afterSeq !== undefined) and.push({ seq: { [Op.gt]: filter.afterSeq } });
      const rows = await this.db.models.AuditEvent.findAll({
        where: and.length ? { [Op.and]: and } : {},
        order: [['seq', filter.order === 'asc' ? 'ASC' : 'DESC']],
        limit: filter.limit,
      });
      return rows.map(toStored);
    });
  }

  /** Rows with seq > afterSeq in seq order (the verify and export walk). */
  scan(afterSeq: number, limit: number): Promise<StoredRow[]> {
    return dbCall('Audit event', async () =>
      (await this.db.models.AuditEvent.findAll({ where: { seq: { [Op.gt]: afterSeq } }, order: [['seq', 'ASC']], limit })).map(toStored),
    );
  }

  /** GDPR erase: clears ip, user agent and personal fields (outside the hash) of a user's rows. */
  erasePersonalData(userId: string): Promise<number> {
    return dbCall('Audit event', async () => {
      const [count] = await this.db.models.AuditEvent.update(
        { ip: null, user_agent: null, pii_fields: null, pii_salt: null },
        { where: { [Op.or]: [{ actor: userId }, { target: userId }] } },
      );
      return count;
    });
  }
}
