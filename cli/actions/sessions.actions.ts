// authctl sessions …: list and revoke through core.admin.sessions (the same service as /admin/sessions).
import type { Core } from '../../core/container.js';
import type { AdminScope, AdminSessionView } from '../../core/services/user-admin.service.js';
import { list, message, type Column, type Output } from '../output.js';

export const SESSION_COLUMNS: readonly Column<AdminSessionView>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'USER', value: (s) => s.user_id },
  { header: 'TENANT', value: (s) => s.tenant },
  { header: 'STATE', value: (s) => (s.active ? 'active' : s.revoked_at ? `revoked:${s.revoked_reason ?? ''}` : 'expired') },
  { header: 'LAST USED', value: (s) => s.last_used_at },
  { header: 'IP', value: (s) => s.ip },
  { header: 'USER AGENT', value: (s) => s.user_agent },
];

export interface ListSessionsInput {
  user?: string;
  tenant?: string;
  active: boolean;
  limit: number;
}

export async function listSessions(core: Core, scope: AdminScope, input: ListSessionsInput): Promise<Output> {
  const rows = await core.admin.sessions.list(scope, {
    ...(input.user !== undefined ? { user: input.user } : {}),
    ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
    active: input.active,
    limit: input.limit,
  });
  return list(rows, SESSION_COLUMNS, '(no sessions)');
}

export async function revokeSession(core: Core, scope: AdminScope, sessionId: string): Promise<Output> {
  const revoked = await core.admin.sessions.revoke(scope, sessionId);
  return message(revoked ? `revoked session ${sessionId}` : `session ${sessionId} was already revoked`, { id: sessionId, revoked });
}

export async function revokeUserSessions(core: Core, scope: AdminScope, user: string, tenant?: string): Promise<Output> {
  const count = await core.admin.sessions.revokeForUser(scope, user, tenant !== undefined ? { tenant } : {});
  return message(`revoked ${count} session${count === 1 ? '' : 's'} of ${user}`, { user, revoked: count });
}
