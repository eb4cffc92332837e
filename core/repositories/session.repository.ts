// Session and refresh-token persistence. Rotation is a conditional UPDATE (spent_at IS NULL) so exactly
// one of two concurrent refreshes wins on both SQLite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { Op } from 'sequelize';
import type { Database } from '../db/database.js';
import type { SessionModel } from '../db/models/session.model.js';
import { dbCall } from '../db/translate-error.js';
import type { RefreshTokenRecord, RevocationReason, Session } from '../domain/types.js';

const toSession = (m: SessionModel): Session => ({
  id: m.id,
  userId: m.user_id,
  tenantId: m.tenant_id,
  ip: m.ip,
  userAgent: m.user_agent,
  clientId: m.client_id,
  createdAt: new Date(m.created_at),
  lastUsedAt: new Date(m.last_used_at),
  idleExpiresAt: new Date(m.idle_expires_at),
  absoluteExpiresAt: new Date(m.absolute_expires_at),
  revokedAt: m.revoked_at ? new Date(m.revoked_at) : null,
  revokedReason: m.revoked_reason,
});

export interface NewSession {
  userId: string;
  tenantId: string;
  ip: string | null;
  userAgent: string | null;
  clientId?: string | null;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
}

export interface RevokedSessionRef {
  id: string;
  userId: string;
  tenantId: string;
  revokedAt: Date;
}

export class SessionRepository {
  constructor(private readonly db: Database) {}

  create(input: NewSession, at: Date): Promise<Session> {
    return dbCall('Session', async () =>
      toSession(
        await this.db.models.Session.create({
          id: randomUUID(),
          user_id: input.userId,
          tenant_id: input.tenantId,
          ip: input.ip?.slice(0, 64) ?? null,
          user_agent: input.userAgent?.slice(0, 512) ?? null,
          client_id: input.clientId ?? null,
          created_at: at,
          last_used_at: at,
          idle_expires_at: input.idleExpiresAt,
          absolute_expires_at: input.absoluteExpiresAt,
          revoked_at: null,
          revoked_reason: null,
        }),
      ),
    );
  }

  findById(tenantId: string, id: string): Promise<Session | null> {
    return dbCall('Session', async () => {
      const row = await this.db.models.Session.findOne({ where: { tenant_id: tenantId, id } });
      return row ? toSession(row) : null;
    });
  }

  findByIdAnyTenant(id: string): Promise<Session | null> {
    return dbCall('Session', async () => {
      const row = await this.db.models.Session.findByPk(id);
      return row ? toSession(row) : null;
    });
  }

  listForUser(tenantId: string, userId: string, options: { activeAt?: Date } = {}): Promise<Session[]> {
    return dbCall('Session', async () => {
      const where: Record<string | symbol, unknown> = { tenant_id: tenantId, user_id: userId };
      if (options.activeAt) {
        where.revoked_at = null;
        where.idle_expires_at = { [Op.gt]: options.activeAt };
        where.absolute_expires_at = { [Op.gt]: options.activeAt };
      }
      const rows = await this.db.models.Session.findAll({ where, order: [['created_at', 'DESC']] });
      return rows.map(toSession);
    });
  }

  list(filter: { tenantId?: string; userId?: string; activeAt?: Date; limit: number }): Promise<Session[]> {
    return dbCall('Session', async () => {
      const where: Record<string | symbol, unknown> = {};
      if (filter.tenantId) where.tenant_id = filter.tenantId;
      if (filter.userId) where.user_id = filter.userId;
      if (filter.activeAt) {
        where.revoked_at = null;
        where.idle_expires_at = { [Op.gt]: filter.activeAt };
        where.absolute_expires_at = { [Op.gt]: filter.activeAt };
      }
      const rows = await this.db.models.Session.findAll({ where, order: [['created_at', 'DESC']], limit: filter.limit });
      return rows.map(toSession);
    });
  }

  /** Marks a refresh: last_used_at and the rolling idle expiry. Only while not revoked. */
  touch(id: string, at: Date, idleExpiresAt: Date): Promise<boolean> {
    return dbCall('Session', async () => {
      const [count] = await this.db.models.Session.update(
        { last_used_at: at, idle_expires_at: idleExpiresAt },
        { where: { id, revoked_at: null } },
      );
      return count > 0;
    });
  }

  /** Soft-revokes one session; returns it when this call revoked it, null when absent or already revoked. */
  revoke(tenantId: string | null, id: string, reason: RevocationReason, at: Date): Promise<RevokedSessionRef | null> {
    return dbCall('Session', async () => {
      const where: Record<string, unknown> = { id, revoked_at: null };
      if (tenantId) where.tenant_id = tenantId;
      const [count] = await this.db.models.Session.update({ revoked_at: at, revoked_reason: reason }, { where });
      if (count === 0) return null;
      const row = await this.db.models.Session.findByPk(id);
      return row ? { id, userId: row.user_id, tenantId: row.tenant_id, revokedAt: at } : null;
    });
  }

  /** Revokes every live session of a user (optionally keeping one); returns the ids revoked. */
  revokeAllForUser(tenantId: string, userId: string, reason: RevocationReason, at: Date, exceptId?: string): Promise<RevokedSessionRef[]> {
    return dbCall('Session', async () => {
      const where: Record<string | symbol, unknown> = { tenant_id: tenantId, user_id: userId, revoked_at: null };
      if (exceptId) where.id = { [Op.ne]: exceptId };
      const rows = await this.db.models.Session.findAll({ where, attributes: ['id', 'user_id', 'tenant_id'] });
      if (rows.length === 0) return [];
      await this.db.models.Session.update(
        { revoked_at: at, revoked_reason: reason },
        { where: { id: rows.map((r) => r.id), revoked_at: null } },
      );
      return rows.map((r) => ({ id: r.id, userId: r.user_id, tenantId: r.tenant_id, revokedAt: at }));
    });
  }

  revokeAllForTenant(tenantId: string, reason: RevocationReason, at: Date): Promise<RevokedSessionRef[]> {
    return dbCall('Session', async () => {
      const rows = await this.db.models.Session.findAll({ where: { tenant_id: tenantId, revoked_at: null }, attributes: ['id', 'user_id'] });
      if (rows.length === 0) return [];
      await this.db.models.Session.update({ revoked_at: at, revoked_reason: reason }, { where: { tenant_id: tenantId, revoked_at: null } });
      return rows.map((r) => ({ id: r.id, userId: r.user_id, tenantId, revokedAt: at }));
    });
  }

  /** Sessions revoked at or after `since` (the revocation poll and reconcile read this; index sessions_revoked_idx). */
  listRevokedSince(since: Date): Promise<Array<RevokedSessionRef & { reason: string }>> {
    return dbCall('Session', async () => {
      const rows = await this.db.models.Session.findAll({
        where: { revoked_at: { [Op.gte]: since } },
        attributes: ['id', 'user_id', 'tenant_id', 'revoked_at', 'revoked_reason'],
      });
      return rows.map((r) => ({
        id: r.id,
        userId: r.user_id,
        tenantId: r.tenant_id,
        revokedAt: new Date(r.revoked_at!),
        reason: r.revoked_reason ?? 'revoked',
      }));
    });
  }

  /**
   * Deletes sessions (and their refresh tokens) that ended — revoked, idle-expired or past their absolute
   * lifetime — before `before`. Works in batches so neither the IN list (SQLite/PostgreSQL parameter
   * limits) nor one transaction grows with the backlog.
   */
  purgeEndedBefore(before: Date, batchSize = 500): Promise<number> {
    return dbCall('Session', async () => {
      const where = {
        [Op.or]: [{ revoked_at: { [Op.lt]: before } }, { absolute_expires_at: { [Op.lt]: before } }, { idle_expires_at: { [Op.lt]: before } }],
      };
      let total = 0;
      for (;;) {
        const rows = await this.db.models.Session.findAll({ where, attributes: ['id'], limit: batchSize });
        if (rows.length === 0) return total;
        const ids = rows.map((r) => r.id);
        await this.db.models.RefreshToken.destroy({ where: { session_id: ids } });
        total += await this.db.models.Session.destroy({ where: { id: ids } });
        if (rows.length < batchSize) return total;
      }
    });
  }

  // --- refresh tokens -------------------------------------------------------------------------

  addRefreshToken(sessionId: string, tokenHash: string, at: Date): Promise<RefreshTokenRecord> {
    return dbCall('Refresh token', async () => {
      const row = await this.db.models.RefreshToken.create({
        id: randomUUID(),
        session_id: sessionId,
        token_hash: tokenHash,
        created_at: at,
        spent_at: null,
      });
      return { id: row.id, sessionId, createdAt: at, spentAt: null };
    });
  }

  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null> {
    return dbCall('Refresh token', async () => {
      const row = await this.db.models.RefreshToken.findOne({ where: { token_hash: tokenHash } });
      return row
        ? { id: row.id, sessionId: row.session_id, createdAt: new Date(row.created_at), spentAt: row.spent_at ? new Date(row.spent_at) : null }
        : null;
    });
  }

  /** Spends a refresh token; true only for the single caller that flipped spent_at from NULL. */
  spendRefreshToken(id: string, at: Date): Promise<boolean> {
    return dbCall('Refresh token', async () => {
      const [count] = await this.db.models.RefreshToken.update({ spent_at: at }, { where: { id, spent_at: null } });
      return count === 1;
    });
  }

  deleteForUser(tenantId: string, userId: string): Promise<void> {
    return dbCall('Session', async () => {
      const rows = await this.db.models.Session.findAll({ where: { tenant_id: tenantId, user_id: userId }, attributes: ['id'] });
      const ids = rows.map((r) => r.id);
      if (ids.length === 0) return;
      await this.db.models.RefreshToken.destroy({ where: { session_id: ids } });
      await this.db.models.Session.destroy({ where: { id: ids } });
    });
  }
}
