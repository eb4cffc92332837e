// The production AuditLog: every event becomes one hash-chained row in `audit_events` (appended under the
// repository's writer lock) and one JSON log line for SIEM shipping. Failure policy: if the row cannot be
// written the caller gets a 503 (ERR_AUDIT_UNAVAILABLE) — the request fails loudly, never silently — and
// the full sanitised event still goes to the log at error level so nothing is lost (docs/audit.md).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { AuditAppendScope, AuditRepository } from '../repositories/audit.repository.js';
import type { AuditEvent, AuditLog } from './audit-log.js';
import { GENESIS_HASH, personalDigest, rowHash, type PersonalData, type StoredRow } from './audit-chain.js';
import { sanitiseDetails, sanitiseText } from './sanitise-details.js';

/** The public shape of a row: API responses, `authctl audit list/export`, log lines. */
export interface AuditEventView {
  id: string;
  seq: number;
  time: string;
  actor: string;
  tenant: string | null;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  user_agent: string | null;
  details: unknown;
  /** Personal fields split off details (email, username…); null once erased. */
  personal: Record<string, unknown> | null;
  pii_digest: string | null;
  prev_hash: string;
  hash: string;
}

export function toAuditView(row: StoredRow): AuditEventView {
  return {
    id: row.id,
    seq: row.seq,
    time: row.time.toISOString(),
    actor: row.actor,
    tenant: row.tenant,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    ip: row.personal?.ip ?? null,
    user_agent: row.personal?.user_agent ?? null,
    details: row.details,
    personal: row.personal?.fields ?? null,
    pii_digest: row.pii_digest,
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

/** A row ready to hash, from an event: sanitised, personal data split off, not yet linked. */
export type UnlinkedRow = Omit<StoredRow, 'seq' | 'prev_hash' | 'hash'>;

export function prepareRow(event: AuditEvent, at: Date): UnlinkedRow {
  const { details, personal: fields } = sanitiseDetails(event.details);
  const ip = sanitiseText(event.ip, 64);
  const userAgent = sanitiseText(event.userAgent, 512);
  const personal: PersonalData | null =
    ip !== null || userAgent !== null || fields !== null ? { salt: randomBytes(16).toString('hex'), ip, user_agent: userAgent, fields } : null;
  return {
    id: randomUUID(),
    time: at,
    actor: sanitiseText(event.actor, 128) ?? 'unknown',
    tenant: sanitiseText(event.tenant, 63),
    action: event.action,
    target: sanitiseText(event.target, 128),
    outcome: event.outcome,
    details,
    pii_digest: personal ? personalDigest(personal) : null,
    personal,
  };
}

/** Links a prepared row to the current head and inserts it; call only inside `appendLocked`. */
export async function appendRow(scope: AuditAppendScope, row: UnlinkedRow): Promise<StoredRow> {
  const head = await scope.head();
  const seq = (head?.seq ?? 0) + 1;
  const prev = head?.hash ?? GENESIS_HASH;
  const linked = { ...row, seq, prev_hash: prev, hash: '' };
  linked.hash = rowHash(prev, linked);
  await scope.insert(linked);
  return linked;
}

export const auditUnavailable = (cause: unknown): AppError =>
  new AppError('ERR_AUDIT_UNAVAILABLE', 503, 'Service unavailable', {
    detail: 'The audit trail could not record this action; it was not completed. Retry later.',
    headers: { 'retry-after': '5' },
    expose: true,
    cause,
  });

export interface ChainedAuditLogDeps {
  repo: AuditRepository;
  clock: Clock;
  logger: Logger;
}

export class ChainedAuditLog implements AuditLog {
  constructor(private readonly d: ChainedAuditLogDeps) {}

  async record(event: AuditEvent): Promise<void> {
    const row = prepareRow(event, new Date(this.d.clock.now()));
    let stored: StoredRow;
    try {
      stored = await this.d.repo.appendLocked((scope) => appendRow(scope, row));
    } catch (err) {
      // The log line is the fallback record; the caller fails with 503 rather than continuing unaudited.
      this.d.logger.error({ audit: toAuditView({ ...row, seq: -1, prev_hash: '', hash: '' }), persisted: false, err }, `audit ${event.action} NOT persisted`);
      throw auditUnavailable(err);
    }
    this.d.logger.info({ audit: toAuditView(stored), persisted: true }, `audit ${event.action}`);
  }
}
