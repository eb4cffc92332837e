// User persistence. Every query is scoped by tenant id here, never by callers (Kratos' persister habit);
// the few cross-tenant reads are named *AnyTenant so a reader sees the scope at the call site.
import { randomUUID } from 'node:crypto';
import { Op, type InferAttributes, type WhereOptions } from 'sequelize';
import type { Database } from '../db/database.js';
import type { UserModel } from '../db/models/user.model.js';
import { dbCall } from '../db/translate-error.js';
import type { User, UserWithSecret } from '../domain/types.js';

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

function parseRoles(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      return Array.isArray(parsed) ? parsed.map(String) : [];
    } catch {
      return [];
    }
  }
  return [];
}

export interface NewUser {
  tenantId: string;
  email: string;
  username: string;
  passwordHash: string | null;
  roles: string[];
  emailVerifiedAt?: Date | null;
}

export interface UserPatch {
  roles?: string[];
  disabledAt?: Date | null;
  lockedUntil?: Date | null;
  failedLoginCount?: number;
  passwordHash?: string;
  passwordChangedAt?: Date;
  emailVerifiedAt?: Date | null;
}

export interface UserListFilter {
  tenantId?: string;
  role?: string;
  disabled?: boolean;
  emailPrefix?: string;
  /** Exclusive cursor: the id after which to continue (ordered by created_at, id). */
  after?: { createdAt: Date; id: string };
  limit: number;
}

export class UserRepository {
  constructor(
    private readonly db: Database,
    private readonly tenantSlugOf: (tenantId: string) => Promise<string>,
  ) {}

  private async toUser(m: UserModel): Promise<UserWithSecret> {
    return {
      id: m.id,
      tenantId: m.tenant_id,
      tenantSlug: await this.tenantSlugOf(m.tenant_id),
      email: m.email ?? '',
      username: m.username ?? '',
      roles: parseRoles(m.roles),
      emailVerifiedAt: date(m.email_verified_at),
      disabledAt: date(m.disabled_at),
      lockedUntil: date(m.locked_until),
      failedLoginCount: m.failed_login_count,
      passwordChangedAt: date(m.password_changed_at),
      createdAt: new Date(m.created_at),
      updatedAt: new Date(m.updated_at),
      passwordHash: m.password_hash,
    };
  }

  private async toPublic(m: UserModel): Promise<User> {
    const { passwordHash: _drop, ...user } = await this.toUser(m);
    return user;
  }

  /** Email must already be normalised (core/domain/email.ts). */
  findByEmailWithSecret(tenantId: string, email: string): Promise<UserWithSecret | null> {
    return dbCall('User', async () => {
      const row = await this.db.models.User.findOne({ where: { tenant_id: tenantId, email, deleted_at: null } });
      return row ? this.toUser(row) : null;
    });
  }

  findByIdWithSecret(tenantId: string, id: string): Promise<UserWithSecret | null> {
    return dbCall('User', async () => {
      const row = await this.db.models.User.findOne({ where: { tenant_id: tenantId, id, deleted_at: null } });
      return row ? this.toUser(row) : null;
    });
  }

  findById(tenantId: string, id: string): Promise<User | null> {
    return dbCall('User', async () => {
      const row = await this.db.models.User.findOne({ where: { tenant_id: tenantId, id, deleted_at: null } });
      return row ? this.toPublic(row) : null;
    });
  }

  findByEmail(tenantId: string, email: string): Promise<User | null> {
    return dbCall('User', async () => {
      const row = await this.db.models.User.findOne({ where: { tenant_id: tenantId, email, deleted_at: null } });
      return row ? this.toPublic(row) : null;
    });
  }

  /** Cross-tenant lookup for operators (CLI, global admins). */
  findByIdAnyTenant(id: string): Promise<User | null> {
    return dbCall('User', async () => {
      const row = await this.db.models.User.findOne({ where: { id, deleted_at: null } });
      return row ? this.toPublic(row) : null;
    });
  }

  /** Cross-tenant lookup by email for operators; may return several users (one per tenant). */
  findByEmailAnyTenant(email: string): Promise<User[]> {
    return dbCall('User', async () => {
      const rows = await this.db.models.User.findAll({ where: { email, deleted_at: null } });
      return Promise.all(rows.map((r) => this.toPublic(r)));
    });
  }

  create(input: NewUser, at: Date): Promise<User> {
    return dbCall('User', async () => {
      const row = await this.db.models.User.create({
        id: randomUUID(),
        tenant_id: input.tenantId,
        email: input.email,
        username: input.username,
        password_hash: input.passwordHash,
        roles: input.roles,
        email_verified_at: input.emailVerifiedAt ?? null,
        disabled_at: null,
        locked_until: null,
        failed_login_count: 0,
        password_changed_at: input.passwordHash ? at : null,
        deleted_at: null,
        created_at: at,
        updated_at: at,
      });
      return this.toPublic(row);
    });
  }

  update(tenantId: string, id: string, patch: UserPatch, at: Date): Promise<User | null> {
    return dbCall('User', async () => {
      const values: Partial<InferAttributes<UserModel>> = { updated_at: at };
      if (patch.roles !== undefined) values.roles = patch.roles;
      if (patch.disabledAt !== undefined) values.disabled_at = patch.disabledAt;
      if (patch.lockedUntil !== undefined) values.locked_until = patch.lockedUntil;
      if (patch.failedLoginCount !== undefined) values.failed_login_count = patch.failedLoginCount;
      if (patch.passwordHash !== undefined) values.password_hash = patch.passwordHash;
      if (patch.passwordChangedAt !== undefined) values.password_changed_at = patch.passwordChangedAt;
      if (patch.emailVerifiedAt !== undefined) values.email_verified_at = patch.emailVerifiedAt;
      const [count] = await this.db.models.User.update(values, { where: { tenant_id: tenantId, id, deleted_at: null } });
      if (count === 0) return null;
      return this.findById(tenantId, id);
    });
  }

  /**
   * Atomically counts one failed login and, when the count reaches `max`, sets locked_until.
   * A single UPDATE … SET n = n + 1 cannot lose increments under concurrency.
   */
  recordLoginFailure(tenantId: string, id: string, max: number, lockUntil: Date, at: Date): Promise<{ count: number; locked: boolean }> {
    return dbCall('User', async () => {
      const { User } = this.db.models;
      await User.increment('failed_login_count', { by: 1, where: { tenant_id: tenantId, id } });
      const row = await User.findOne({ where: { tenant_id: tenantId, id }, attributes: ['failed_login_count', 'locked_until'] });
      const count = row?.failed_login_count ?? 0;
      if (count >= max) {
        // Only the attempt that crosses the threshold (or finds no lock) sets it; returns locked for all.
        const [changed] = await User.update(
          { locked_until: lockUntil, updated_at: at },
          { where: { tenant_id: tenantId, id, [Op.or]: [{ locked_until: null }, { locked_until: { [Op.lt]: at } }] } },
        );
        return { count, locked: changed > 0 };
      }
      return { count, locked: false };
    });
  }

  /**
   * Reserves one password check for a login before bcrypt runs (issue 4: race-free lockout). One conditional
   * UPDATE increments failed_login_count only while the account is unlocked and below `max` (or its lock
   * has expired, which starts a new count at 1), so however many wrong attempts race, at most `max` of
   * them per lock period get a real compare: the overshoot beyond the limit is 0. The attempt that takes
   * the count to `max` locks the account at once (before its own compare finishes); a correct password
   * clears the count and the lock afterwards (update with failedLoginCount 0, lockedUntil null).
   */
  claimLoginAttempt(tenantId: string, id: string, max: number, lockUntil: Date, at: Date): Promise<{ claimed: boolean; count: number; lockedByThis: boolean }> {
    return dbCall('User', async () => {
      const { User } = this.db.models;
      const sequelize = this.db.sequelize;
      const [changed] = await User.update(
        {
          failed_login_count: sequelize.literal('CASE WHEN locked_until IS NULL THEN failed_login_count + 1 ELSE 1 END') as unknown as number,
          locked_until: null,
          updated_at: at,
        },
        {
          where: {
            tenant_id: tenantId,
            id,
            deleted_at: null,
            [Op.or]: [{ locked_until: null, failed_login_count: { [Op.lt]: max } }, { locked_until: { [Op.lte]: at } }],
          },
        },
      );
      if (changed === 0) return { claimed: false, count: max, lockedByThis: false };
      const row = await User.findOne({ where: { tenant_id: tenantId, id }, attributes: ['failed_login_count'] });
      const count = row?.failed_login_count ?? 0;
      if (count < max) return { claimed: true, count, lockedByThis: false };
      // Concurrent claimers may both read count >= max; the conditional write picks the one that locks.
      const [locked] = await User.update({ locked_until: lockUntil, updated_at: at }, { where: { tenant_id: tenantId, id, locked_until: null } });
      return { claimed: true, count, lockedByThis: locked > 0 };
    });
  }

  /** After a correct password: forget failed attempts and any lock (one UPDATE, only when there is something to clear). */
  clearLoginFailures(tenantId: string, id: string, at: Date): Promise<void> {
    return dbCall('User', async () => {
      await this.db.models.User.update(
        { failed_login_count: 0, locked_until: null, updated_at: at },
        { where: { tenant_id: tenantId, id, [Op.or]: [{ failed_login_count: { [Op.gt]: 0 } }, { locked_until: { [Op.ne]: null } }] } },
      );
    });
  }

  /** Returns up to limit + 1 users so the caller can tell whether another page exists. */
  list(filter: UserListFilter): Promise<User[]> {
    return dbCall('User', async () => {
      const base: WhereOptions[] = [{ deleted_at: null }];
      if (filter.tenantId) base.push({ tenant_id: filter.tenantId });
      if (filter.disabled === true) base.push({ disabled_at: { [Op.ne]: null } });
      if (filter.disabled === false) base.push({ disabled_at: null });
      if (filter.emailPrefix) base.push({ email: { [Op.startsWith]: filter.emailPrefix } });
      // Role filtering happens in code because JSON array containment differs per dialect.
      const batch = filter.role ? 200 : filter.limit + 1;
      const out: User[] = [];
      let cursor = filter.after;
      for (;;) {
        const rows = await this.db.models.User.findAll({
          where: { [Op.and]: cursor ? [...base, cursorWhere(cursor)] : base },
          order: [['created_at', 'ASC'], ['id', 'ASC']],
          limit: batch,
        });
        for (const row of rows) {
          const user = await this.toPublic(row);
          if (!filter.role || user.roles.includes(filter.role)) out.push(user);
          if (out.length > filter.limit) return out;
        }
        if (rows.length < batch) return out;
        const last = rows[rows.length - 1]!;
        cursor = { createdAt: new Date(last.created_at), id: last.id };
      }
    });
  }

  /** GDPR erase: removes personal data and the hash, keeps the row (pseudonymised) so audit references stay valid. */
  erase(tenantId: string, id: string, at: Date): Promise<boolean> {
    return dbCall('User', async () => {
      const [count] = await this.db.models.User.update(
        {
          email: null,
          username: null,
          password_hash: null,
          roles: [],
          disabled_at: at,
          deleted_at: at,
          updated_at: at,
        },
        { where: { tenant_id: tenantId, id, deleted_at: null } },
      );
      return count > 0;
    });
  }

  /**
   * Users disabled at or after `since` (the revocation poll reads only these; index users_disabled_idx).
   * Plain ids and times: no tenant-slug lookup per row on a path that runs every second.
   */
  listDisabledSince(since: Date): Promise<Array<{ id: string; disabledAt: Date }>> {
    return dbCall('User', async () => {
      const rows = await this.db.models.User.findAll({ where: { disabled_at: { [Op.gte]: since } }, attributes: ['id', 'disabled_at'] });
      return rows.map((r) => ({ id: r.id, disabledAt: new Date(r.disabled_at!) }));
    });
  }

  /** Ids of disabled users (the revocation set is seeded from this). */
  listDisabledIds(): Promise<string[]> {
    return dbCall('User', async () => {
      const rows = await this.db.models.User.findAll({ where: { disabled_at: { [Op.ne]: null } }, attributes: ['id'] });
      return rows.map((r) => r.id);
    });
  }
}

function cursorWhere(after: { createdAt: Date; id: string }): WhereOptions {
  return {
    [Op.or]: [{ created_at: { [Op.gt]: after.createdAt } }, { created_at: after.createdAt, id: { [Op.gt]: after.id } }],
  };
}
