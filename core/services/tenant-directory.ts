// Cached tenant lookups (slug ↔ id) so mapping a user row to its tenant slug does not cost a query.
// Entries live a few seconds; disabling a tenant invalidates explicitly.
import type { Clock } from '../clock.js';
import { Errors } from '../errors.js';
import type { Tenant } from '../domain/types.js';
import type { TenantRepository } from '../repositories/tenant.repository.js';

export const DEFAULT_TENANT = 'default';
const TTL_MS = 5_000;

export class TenantDirectory {
  private readonly bySlug = new Map<string, { tenant: Tenant; at: number }>();
  private readonly byId = new Map<string, { tenant: Tenant; at: number }>();

  constructor(
    private readonly repo: TenantRepository,
    private readonly clock: Clock,
  ) {}

  private remember(tenant: Tenant): Tenant {
    const entry = { tenant, at: this.clock.now() };
    this.bySlug.set(tenant.slug, entry);
    this.byId.set(tenant.id, entry);
    return tenant;
  }

  private fresh(entry: { at: number } | undefined): boolean {
    return entry !== undefined && this.clock.now() - entry.at < TTL_MS;
  }

  async findBySlug(slug: string): Promise<Tenant | null> {
    const hit = this.bySlug.get(slug);
    if (hit && this.fresh(hit)) return hit.tenant;
    const tenant = await this.repo.findBySlug(slug);
    return tenant ? this.remember(tenant) : null;
  }

  /**
   * Reads the tenant from the database, bypassing (and refreshing) the cache. Login and refresh use it,
   * so a tenant disabled by another process stops new tokens at once, not after the cache TTL.
   */
  async findBySlugFresh(slug: string): Promise<Tenant | null> {
    const tenant = await this.repo.findBySlug(slug);
    return tenant ? this.remember(tenant) : null;
  }

  async findByIdFresh(id: string): Promise<Tenant | null> {
    const tenant = await this.repo.findById(id);
    return tenant ? this.remember(tenant) : null;
  }

  async findById(id: string): Promise<Tenant | null> {
    const hit = this.byId.get(id);
    if (hit && this.fresh(hit)) return hit.tenant;
    const tenant = await this.repo.findById(id);
    return tenant ? this.remember(tenant) : null;
  }

  async slugOf(id: string): Promise<string> {
    return (await this.findById(id))?.slug ?? 'unknown';
  }

  /** Resolves an optional tenant slug from a request; unknown → 400 on the `tenant` field. */
  async resolve(slug: string | undefined): Promise<Tenant> {
    const tenant = await this.findBySlug(slug ?? DEFAULT_TENANT);
    if (!tenant) throw Errors.validation([{ field: 'tenant', message: 'unknown tenant' }]);
    return tenant;
  }

  invalidate(): void {
    this.bySlug.clear();
    this.byId.clear();
  }
}
