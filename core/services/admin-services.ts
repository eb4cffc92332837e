// Builds the admin services (users, sessions, tenants) for the composition root, and the policy-file
// role lookup they validate role names against (policies.yaml `roles:` is the one list of roles).
import { AppError } from '../errors.js';
import { loadPolicyFile } from '../policy/index.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditQuery } from '../audit/audit-query.js';
import type { Clock } from '../clock.js';
import type { RevocationBus } from '../revocation/revocation-bus.js';
import type { SessionRepository } from '../repositories/session.repository.js';
import type { TenantRepository } from '../repositories/tenant.repository.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { AuthService } from './auth.service.js';
import type { PasswordPolicy } from './password-policy.js';
import { SessionAdminService } from './session-admin.service.js';
import type { TenantDirectory } from './tenant-directory.js';
import { TenantService } from './tenant.service.js';
import { UserAdminService, type AuditTrail, type PasswordResetIssuer, type RolePolicy } from './user-admin.service.js';

export interface AdminServices {
  users: UserAdminService;
  sessions: SessionAdminService;
  tenants: TenantService;
}

export interface AdminServicesDeps {
  repos: { users: UserRepository; sessions: SessionRepository; tenants: TenantRepository };
  directory: TenantDirectory;
  auth: AuthService;
  passwordPolicy: PasswordPolicy;
  revocation: RevocationBus;
  audit: AuditLog;
  clock: Clock;
  defaultRole: string;
  policiesFile: string;
  /** Optional plug-ins: the password-reset service, and the audit trail's query/erase side. */
  passwordReset?: PasswordResetIssuer;
  auditQuery?: Pick<AuditQuery, 'export' | 'erasePersonalData'>;
  loginCounters?: { forget(email: string, tenant: string): Promise<void> } | null;
}

/**
 * Role names from the policy file. Read on each call: role changes are rare operator actions, and the
 * file (not a possibly stale in-memory copy) is what the next reload will enforce.
 */
export function policyFileRoles(file: string): () => Promise<RolePolicy> {
  return async () => {
    const { policy, problems } = await loadPolicyFile(file);
    if (!policy) {
      const first = problems.find((p) => p.severity === 'error');
      throw new AppError('ERR_POLICY_INVALID', 500, 'Policy file invalid', {
        detail: `Cannot read roles from ${file}: ${first?.message ?? 'invalid policy'} (run authctl policies check).`,
        expose: true,
      });
    }
    return { roles: new Set(policy.roles.keys()), permissionsFor: policy.permissionsFor };
  };
}

/** Adapts the audit query API to what GDPR export/erase need. */
export function auditTrailOf(query: Pick<AuditQuery, 'export' | 'erasePersonalData'>): AuditTrail {
  return {
    async eventsOf(userId) {
      const events: unknown[] = [];
      for await (const e of query.export({ user: userId })) events.push(e);
      return events;
    },
    erasePersonalData: (userId) => query.erasePersonalData(userId),
  };
}

export function createAdminServices(d: AdminServicesDeps): AdminServices {
  const users = new UserAdminService({
    users: d.repos.users,
    sessions: d.repos.sessions,
    tenants: d.directory,
    auth: d.auth,
    passwordPolicy: d.passwordPolicy,
    revocation: d.revocation,
    audit: d.audit,
    clock: d.clock,
    loginCounters: d.loginCounters ?? null,
    defaultRole: d.defaultRole,
    rolePolicy: policyFileRoles(d.policiesFile),
    ...(d.passwordReset ? { passwordReset: d.passwordReset } : {}),
    ...(d.auditQuery ? { auditTrail: auditTrailOf(d.auditQuery) } : {}),
  });
  const sessions = new SessionAdminService({ sessions: d.repos.sessions, tenants: d.directory, auth: d.auth, users, clock: d.clock });
  const tenants = new TenantService({
    repo: d.repos.tenants,
    directory: d.directory,
    sessions: d.repos.sessions,
    auth: d.auth,
    revocation: d.revocation,
    audit: d.audit,
    clock: d.clock,
  });
  return { users, sessions, tenants };
}
