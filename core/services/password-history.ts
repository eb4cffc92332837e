// PasswordHistory for AuthService (SPEC §6): refuses one of the last N passwords by comparing the
// candidate against the stored bcrypt hashes (N compares, native async — off the event loop).
import bcrypt from 'bcrypt';
import type { PasswordHistoryRepository } from '../repositories/password-history.repository.js';
import type { PasswordHistory } from './auth.service.js';

export const PASSWORD_HISTORY_SIZE = 5;

export class StoredPasswordHistory implements PasswordHistory {
  constructor(
    private readonly repo: PasswordHistoryRepository,
    private readonly size = PASSWORD_HISTORY_SIZE,
  ) {}

  async isReused(userId: string, password: string): Promise<boolean> {
    const hashes = await this.repo.recent(userId, this.size);
    const results = await Promise.all(hashes.map((h) => bcrypt.compare(password, h).catch(() => false)));
    return results.some(Boolean);
  }

  remember(userId: string, hash: string, at: Date): Promise<void> {
    return this.repo.add(userId, hash, at, this.size);
  }
}
