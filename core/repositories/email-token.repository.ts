// One-time email tokens (password reset, email verification). Only SHA-256 hashes are stored; the
// token itself identifies the row, so lookup is by hash across tenants and the caller checks the
// binding (user, tenant, purpose) on the returned record. Spending is one conditional UPDATE.
import { randomUUID } from 'node:crypto';
import { Op } from 'sequelize';
import type { Database } from '../db/database.js';
import type { EmailTokenModel } from '../db/models/email-token.model.js';
import { dbCall } from '../db/translate-error.js';

export type EmailTokenPurpose = 'reset' | 'verify';

export interface EmailToken {
  id: string;
  userId: string;
  tenantId: string;
  purpose: EmailTokenPurpose;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

export interface NewEmailToken {
  userId: string;
  tenantId: string;
  purpose: EmailTokenPurpose;
  tokenHash: string;
  expiresAt: Date;
}

const toToken = (m: EmailTokenModel): EmailToken => ({
  id: m.id,
  userId: m.user_id,
  tenantId: m.tenant_id,
  purpose: m.purpose === 'reset' ? 'reset' : 'verify',
  createdAt: new Date(m.created_at),
  expiresAt: new Date(m.expires_at),
  usedAt: m.used_at === null ? null : new Date(m.used_at),
});

export class EmailTokenRepository {
  constructor(private readonly db: Database) {}

  create(input: NewEmailToken, at: Date): Promise<EmailToken> {
    return dbCall('Email token', async () => {
      const row = await this.db.models.EmailToken.create({
        id: randomUUID(),
        user_id: input.userId,
        tenant_id: input.tenantId,
        purpose: input.purpose,
        token_hash: input.tokenHash,
        created_at: at,
        expires_at: input.expiresAt,
        used_at: null,
      });
      return toToken(row);
    });
  }

  /** Marks every unused token of this purpose for the user as used; returns how many. */
  invalidateUnused(tenantId: string, userId: string, purpose: EmailTokenPurpose, at: Date): Promise<number> {
    return dbCall('Email token', async () => {
      const [count] = await this.db.models.EmailToken.update(
        { used_at: at },
        { where: { tenant_id: tenantId, user_id: userId, purpose, used_at: null } },
      );
      return count;
    });
  }

  /** The token with this hash, whatever its state (the service decides what is acceptable). */
  findByHashAnyTenant(tokenHash: string): Promise<EmailToken | null> {
    return dbCall('Email token', async () => {
      const row = await this.db.models.EmailToken.findOne({ where: { token_hash: tokenHash } });
      return row ? toToken(row) : null;
    });
  }

  /**
   * Spends the token if, and only if, it is unused and unexpired at `at` — one conditional UPDATE, so
   * two concurrent confirmations cannot both succeed. True when this call spent it.
   */
  spend(tenantId: string, id: string, purpose: EmailTokenPurpose, at: Date): Promise<boolean> {
    return dbCall('Email token', async () => {
      const [count] = await this.db.models.EmailToken.update(
        { used_at: at },
        { where: { tenant_id: tenantId, id, purpose, used_at: null, expires_at: { [Op.gt]: at } } },
      );
      return count === 1;
    });
  }

  /** Undoes spend() when the new password was refused by the policy, so the user may try again. */
  unspend(tenantId: string, id: string, at: Date): Promise<void> {
    return dbCall('Email token', async () => {
      await this.db.models.EmailToken.update({ used_at: null }, { where: { tenant_id: tenantId, id, used_at: at } });
    });
  }

  /** Housekeeping: deletes tokens that expired before `before`. */
  purgeExpired(before: Date): Promise<number> {
    return dbCall('Email token', () => this.db.models.EmailToken.destroy({ where: { expires_at: { [Op.lt]: before } } }));
  }

  deleteForUser(tenantId: string, userId: string): Promise<number> {
    return dbCall('Email token', () => this.db.models.EmailToken.destroy({ where: { tenant_id: tenantId, user_id: userId } }));
  }
}
