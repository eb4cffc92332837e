// authctl tenants …: create, list, disable, enable through core.admin.tenants.
import type { Core } from '../../core/container.js';
import type { AdminScope } from '../../core/services/user-admin.service.js';
import { toTenantView, type TenantView } from '../../core/services/tenant.service.js';
import { list, message, type Column, type Output } from '../output.js';

export const TENANT_COLUMNS: readonly Column<TenantView>[] = [
  { header: 'SLUG', value: (t) => t.slug },
  { header: 'NAME', value: (t) => t.name },
  { header: 'STATUS', value: (t) => (t.disabled ? 'disabled' : 'active') },
  { header: 'ID', value: (t) => t.id },
  { header: 'CREATED', value: (t) => t.created_at },
];

export async function createTenant(core: Core, scope: AdminScope, input: { slug: string; name?: string }): Promise<Output> {
  const t = toTenantView(await core.admin.tenants.create(scope, input));
  return message(`created tenant ${t.slug} (${t.id})`, t);
}

export async function listTenants(core: Core): Promise<Output> {
  return list((await core.admin.tenants.list()).map(toTenantView), TENANT_COLUMNS, '(no tenants)');
}

export async function disableTenant(core: Core, scope: AdminScope, slug: string): Promise<Output> {
  const t = toTenantView(await core.admin.tenants.disable(scope, slug));
  return message(`disabled tenant ${t.slug}: logins refused, sessions revoked`, t);
}

export async function enableTenant(core: Core, scope: AdminScope, slug: string): Promise<Output> {
  const t = toTenantView(await core.admin.tenants.enable(scope, slug));
  return message(`enabled tenant ${t.slug}`, t);
}
