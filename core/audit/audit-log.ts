// The typed audit event emitter contract (SPEC §8). Services call `audit.record(...)`; the default
// implementation writes JSON log lines; core/audit/chained-audit-log.ts adds the hash-chained table.
import type { Logger } from 'pino';
import type { AuditAction } from './audit-actions.js';

export type { AuditAction } from './audit-actions.js';

export interface AuditEvent {
  /** Dotted action name from core/audit/audit-actions.ts, e.g. auth.login.succeeded, admin.user.disabled. */
  action: AuditAction;
  /** user id, `cli:<os user>`, or `system`. */
  actor: string;
  /** Tenant slug, when the event belongs to one. */
  tenant?: string | null;
  target?: string | null;
  outcome: 'success' | 'failure';
  ip?: string | null;
  userAgent?: string | null;
  /** Free-form context. Secret-looking keys are dropped and personal fields split off before storing. */
  details?: Record<string, unknown>;
}

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
}

/** Writes every event as one JSON log line (for SIEM shipping). */
export class LogAuditLog implements AuditLog {
  constructor(private readonly logger: Logger) {}
  async record(event: AuditEvent): Promise<void> {
    this.logger.info({ audit: event }, `audit ${event.action}`);
  }
}
