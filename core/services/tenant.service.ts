// Tenants (SPEC §3 /admin/tenants, §7 authctl tenants …): list, create, disable/enable. Disabling blocks
// logins (AuthService.login checks tenant.disabledAt), revokes every session and announces the tenant
// revocation so live access tokens of the tenant are rejected everywhere.
import type { Clock } from '../clock.js';
import { AppError, Errors } from '../errors.js';
import type { Tenant } from '../domain/types.js';
import type { AuditAction, AuditLog } from '../audit/audit-log.js';
import type { RevocationBus } from '../revocation/revocation-bus.js';
import type { TenantRepository } from '../repositories/tenant.repository.js';
import type { SessionRepository } from '../repositories/session.repository.js';
import type { AuthService } from './auth.service.js';
import type { TenantDirectory } from './tenant-directory.js';
import type { AdminScope } from './user-admin.service.js';

export interface TenantView {
  id: string;
  slug: string;
  name: string;
  disabled: boolean;
  disabled_at: string | null;
  created_at: string;
}

export interface TenantServiceDeps {
  repo: TenantRepository;
  directory: TenantDirectory;
  sessions: SessionRepository;
  auth: AuthService;
  revocation: RevocationBus;
  audit: AuditLog;
  clock: Clock;
}

/** DNS-label-like, so a slug is safe in URLs (`/t/:tenant/…`), headers and the `tid` claim. */
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function toTenantView(t: Tenant): TenantView {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    disabled: t.disabledAt !== null,
    disabled_at: t.disabledAt ? t.disabledAt.toISOString() : null,
    created_at: t.createdAt.toISOString(),
  };
}

export class TenantService {
  constructor(private readonly d: TenantServiceDeps) {}

  private async audit(scope: AdminScope, action: AuditAction, tenant: Tenant, details?: Record<string, unknown>): Promise<void> {
    await this.d.audit.record({
      action,
      actor: scope.actor,
      tenant: tenant.slug,
      target: tenant.id,
      outcome: 'success',
      ip: scope.meta.ip,
      userAgent: scope.meta.userAgent,
      ...(details ? { details } : {}),
    });
  }

  async list(): Promise<Tenant[]> {
    return this.d.repo.list();
  }

  async get(slug: string): Promise<Tenant> {
    const tenant = SLUG.test(slug) ? await this.d.repo.findBySlug(slug) : null;
    if (!tenant) throw Errors.notFound('Tenant');
    return tenant;
  }

  async create(scope: AdminScope, input: { slug: string; name?: string }): Promise<Tenant> {
    const slug = input.slug.trim();
    const name = (input.name ?? slug).trim();
    const errors = [];
    if (!SLUG.test(slug)) errors.push({ field: 'slug', message: 'must be 1-63 characters: lower-case letters, digits and "-" (not at either end)' });
    if (name.length === 0 || name.length > 200) errors.push({ field: 'name', message: 'must be 1-200 characters' });
    if (errors.length) throw Errors.validation(errors);
    let tenant: Tenant;
    try {
      tenant = await this.d.repo.create({ slug, name }, new Date(this.d.clock.now()));
    } catch (err) {
      if ((err as AppError).code === 'ERR_ALREADY_EXISTS') throw Errors.conflict(`Tenant "${slug}" already exists.`, 'ERR_TENANT_EXISTS');
      throw err;
    }
    this.d.directory.invalidate();
    await this.audit(scope, 'admin.tenant.created', tenant, { name });
    return tenant;
  }

  async disable(scope: AdminScope, slug: string): Promise<Tenant> {
    const tenant = await this.get(slug);
    if (tenant.disabledAt) return tenant;
    const at = new Date(this.d.clock.now());
    await this.d.repo.setDisabled(tenant.id, at);
    // The directory caches tenants for a few seconds; login must see the change at once.
    this.d.directory.invalidate();
    const refs = await this.d.sessions.revokeAllForTenant(tenant.id, 'tenant_disabled', at);
    await this.d.auth.announce(refs, 'tenant_disabled', tenant.slug);
    await this.d.revocation.publish([{ kind: 'tenant', id: tenant.slug, at: at.getTime(), reason: 'tenant_disabled' }]);
    await this.audit(scope, 'admin.tenant.disabled', tenant, { sessions_revoked: refs.length });
    return { ...tenant, disabledAt: at };
  }

  async enable(scope: AdminScope, slug: string): Promise<Tenant> {
    const tenant = await this.get(slug);
    if (!tenant.disabledAt) return tenant;
    await this.d.repo.setDisabled(tenant.id, null);
    this.d.directory.invalidate();
    await this.audit(scope, 'admin.tenant.enabled', tenant);
    return { ...tenant, disabledAt: null };
  }
}
