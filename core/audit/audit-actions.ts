// The one list of audit action names (SPEC §8). `AuditEvent.action` is typed by it, so a typo in a
// service's `audit.record({ action })` fails the typecheck instead of silently creating a new event kind.

export const AUDIT_ACTIONS = [
  'auth.register',
  'auth.login.succeeded',
  'auth.login.failed',
  'auth.lockout',
  'auth.unlock',
  'auth.refresh',
  'auth.refresh.reused',
  'auth.logout',
  'session.revoked',
  'auth.password.changed',
  'auth.password.reset',
  'auth.password.reset_requested',
  'auth.email.verified',
  'auth.email.verification_sent',
  'user.created',
  'user.updated',
  'user.role_changed',
  'user.disabled',
  'user.enabled',
  'user.unlocked',
  'user.deleted',
  'tenant.created',
  'tenant.updated',
  'tenant.disabled',
  'tenant.enabled',
  'key.rotated',
  'key.retired',
  'policy.reloaded',
  'policy.reload_failed',
  'audit.purged',
] as const;

export type KnownAuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * A known action, or one in an open namespace: `admin.*` (admin API/CLI actions) and `oauth2.*`
 * (client and grant events) let their owners add names without editing this file.
 */
export type AuditAction = KnownAuditAction | `admin.${string}` | `oauth2.${string}`;

const KNOWN: ReadonlySet<string> = new Set(AUDIT_ACTIONS);
const OPEN_NAMESPACES = ['admin.', 'oauth2.'] as const;

/** Runtime check for actions coming from outside the typechecker (scripts, replays). */
export function isAuditAction(value: string): value is AuditAction {
  return KNOWN.has(value) || OPEN_NAMESPACES.some((ns) => value.startsWith(ns) && /^[a-z0-9_.-]+$/.test(value) && value.length <= 64);
}

/** A query filter: an exact action, a `prefix.*` namespace, or `*`. */
export const ACTION_FILTER = /^(?:\*|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*(?:\.\*)?)$/;
