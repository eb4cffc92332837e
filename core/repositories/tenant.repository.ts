// Tenant persistence: lookup by slug or id, create, list, disable.
import { randomUUID } from 'node:crypto';
import { Op } from 'sequelize';
import type { Database } from '../db/database.js';
import type { TenantModel } from '../db/models/tenant.model.js';
import { dbCall } from '../db/translate-error.js';
import type { Tenant } from '../domain/types.js';

const toTenant = (m: TenantModel): Tenant => ({
  id: m.id,
  slug: m.slug,
  name: m.name,
  disabledAt: m.disabled_at ? new Date(m.disabled_at) : null,
  createdAt: new Date(m.created_at),
});

export class TenantRepository {
  constructor(private readonly db: Database) {}

  findBySlug(slug: string): Promise<Tenant | null> {
    return dbCall('Tenant', async () => {
      const row = await this.db.models.Tenant.findOne({ where: { slug } });
      return row ? toTenant(row) : null;
    });
  }

  findById(id: string): Promise<Tenant | null> {
    return dbCall('Tenant', async () => {
      const row = await this.db.models.Tenant.findByPk(id);
      return row ? toTenant(row) : null;
    });
  }

  list(): Promise<Tenant[]> {
    return dbCall('Tenant', async () => (await this.db.models.Tenant.findAll({ order: [['slug', 'ASC']] })).map(toTenant));
  }

  create(input: { slug: string; name: string }, at: Date): Promise<Tenant> {
    return dbCall('Tenant', async () =>
      toTenant(
        await this.db.models.Tenant.create({
          id: randomUUID(),
          slug: input.slug,
          name: input.name,
          disabled_at: null,
          created_at: at,
          updated_at: at,
        }),
      ),
    );
  }

  setDisabled(id: string, at: Date | null): Promise<void> {
    return dbCall('Tenant', async () => {
      await this.db.models.Tenant.update({ disabled_at: at, updated_at: at ?? new Date() }, { where: { id } });
    });
  }

  /** Tenants disabled at or after `since` (the revocation poll reads only these). */
  listDisabledSince(since: Date): Promise<Array<{ id: string; slug: string; disabledAt: Date }>> {
    return dbCall('Tenant', async () => {
      const rows = await this.db.models.Tenant.findAll({ where: { disabled_at: { [Op.gte]: since } }, attributes: ['id', 'slug', 'disabled_at'] });
      return rows.map((r) => ({ id: r.id, slug: r.slug, disabledAt: new Date(r.disabled_at!) }));
    });
  }

  /** Ids of disabled tenants (the revocation set is seeded from this). */
  listDisabledIds(): Promise<string[]> {
    return dbCall('Tenant', async () => {
      const rows = await this.db.models.Tenant.findAll({ where: { disabled_at: { [Op.ne]: null } }, attributes: ['id'] });
      return rows.map((r) => r.id);
    });
  }
}
