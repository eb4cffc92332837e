// authctl audit …: list, verify, export (JSON Lines) and purge through core.auditQuery, the same
// query/verify code the /admin/audit endpoint and the server's hourly retention purge use.
import type { Core } from '../../core/container.js';
import type { AuditListQuery, VerifyReport } from '../../core/audit/audit-query.js';
import type { AuditEventView } from '../../core/audit/chained-audit-log.js';
import type { AdminScope } from '../../core/services/user-admin.service.js';
import { CommandExit, EXIT } from '../exit-codes.js';
import { list, message, print, type Column, type Output } from '../output.js';

export const AUDIT_COLUMNS: readonly Column<AuditEventView>[] = [
  { header: 'SEQ', value: (e) => e.seq },
  { header: 'TIME', value: (e) => e.time },
  { header: 'ACTION', value: (e) => e.action },
  { header: 'OUTCOME', value: (e) => e.outcome },
  { header: 'ACTOR', value: (e) => e.actor },
  { header: 'TENANT', value: (e) => e.tenant },
  { header: 'TARGET', value: (e) => e.target },
  { header: 'IP', value: (e) => e.ip },
  { header: 'DETAILS', value: (e) => (e.details && Object.keys(e.details).length ? JSON.stringify(e.details) : null) },
];

export async function listAudit(core: Core, query: AuditListQuery): Promise<Output> {
  const page = await core.auditQuery.list(query);
  return list(page.events, AUDIT_COLUMNS, '(no audit events)');
}

export function describeVerify(r: VerifyReport): string {
  const from = r.start.anchored ? `retention anchor at seq ${r.start.seq}` : 'genesis';
  if (r.ok) return `audit chain intact: ${r.rows} row${r.rows === 1 ? '' : 's'} verified from ${from}; head seq ${r.head.seq} hash ${r.head.hash}`;
  return `audit chain BROKEN at ${r.problem?.id ? `row id ${r.problem.id} ` : ''}seq ${r.problem?.seq} (${r.problem?.kind}): ${r.problem?.message}\n` +
    `${r.rows} row${r.rows === 1 ? '' : 's'} checked from ${from}; last good seq ${r.head.seq}`;
}

/** Exit 0 when intact; otherwise prints the first bad row and exits 1. */
export async function verifyAudit(core: Core, asJson: boolean): Promise<Output> {
  const report = await core.auditQuery.verify();
  const out = message(describeVerify(report), report);
  if (!report.ok) {
    print(out, asJson);
    throw new CommandExit(EXIT.failed);
  }
  return out;
}

/** Writes one JSON object per line, oldest first; returns the number written. */
export async function exportAudit(core: Core, query: Omit<AuditListQuery, 'limit' | 'cursor'>, write: (line: string) => Promise<void>): Promise<number> {
  let n = 0;
  for await (const event of core.auditQuery.export(query)) {
    await write(`${JSON.stringify(event)}\n`);
    n += 1;
  }
  return n;
}

export async function purgeAudit(core: Core, scope: AdminScope, retentionMs?: number): Promise<Output> {
  const r = await core.auditQuery.purge(scope.actor, { recordWhenEmpty: true, ...(retentionMs !== undefined ? { retentionMs } : {}) });
  return message(
    r.anchor ? `purged ${r.purged} audit row${r.purged === 1 ? '' : 's'} older than ${r.cutoff}; anchor seq ${r.anchor.seq} hash ${r.anchor.hash}` : `nothing older than ${r.cutoff} to purge`,
    r,
  );
}
