// Password history persistence: append a hash, read the newest N, trim older ones. The user id is a
// global UUID and callers pass one they already resolved within a tenant, so rows are keyed by user only.
import { randomUUID } from 'node:crypto';
import { Op } from 'sequelize';
import type { Database } from '../db/database.js';
import { dbCall } from '../db/translate-error.js';

export class PasswordHistoryRepository {
  constructor(private readonly db: Database) {}

  /** The newest `limit` hashes of a user, newest first. */
  recent(userId: string, limit: number): Promise<string[]> {
    return dbCall('PasswordHistory', async () => {
      const rows = await this.db.models.PasswordHistory.findAll({
        where: { user_id: userId },
        order: [['created_at', 'DESC'], ['id', 'DESC']],
        limit,
        attributes: ['hash'],
      });
      return rows.map((r) => r.hash);
    });
  }

  /** Appends a hash and deletes all but the newest `keep` for the user. */
  add(userId: string, hash: string, at: Date, keep: number): Promise<void> {
    return dbCall('PasswordHistory', async () => {
      const { PasswordHistory } = this.db.models;
      await PasswordHistory.create({ id: randomUUID(), user_id: userId, hash, created_at: at });
      const kept = await PasswordHistory.findAll({
        where: { user_id: userId },
        order: [['created_at', 'DESC'], ['id', 'DESC']],
        limit: keep,
        attributes: ['id'],
      });
      await PasswordHistory.destroy({ where: { user_id: userId, id: { [Op.notIn]: kept.map((r) => r.id) } } });
    });
  }

  /** GDPR erase: the hashes are personal data of a kind. */
  deleteForUser(userId: string): Promise<number> {
    return dbCall('PasswordHistory', () => this.db.models.PasswordHistory.destroy({ where: { user_id: userId } }));
  }
}
