// Signing key persistence: the private JWK is stored in the database (embedded default, SPEC §2).
import { Op } from 'sequelize';
import type { Database } from '../db/database.js';
import type { SigningKeyModel } from '../db/models/signing-key.model.js';
import { dbCall } from '../db/translate-error.js';
import type { SigningKeyRecord } from '../domain/types.js';

const toKey = (m: SigningKeyModel): SigningKeyRecord => ({
  kid: m.kid,
  alg: m.alg,
  publicJwk: m.public_jwk,
  privateJwk: m.private_jwk,
  active: Boolean(m.active),
  createdAt: new Date(m.created_at),
  retiredAt: m.retired_at ? new Date(m.retired_at) : null,
});

export class SigningKeyRepository {
  constructor(private readonly db: Database) {}

  list(): Promise<SigningKeyRecord[]> {
    return dbCall('Signing key', async () =>
      (await this.db.models.SigningKey.findAll({ order: [['created_at', 'ASC']] })).map(toKey),
    );
  }

  listUsable(): Promise<SigningKeyRecord[]> {
    return dbCall('Signing key', async () =>
      (await this.db.models.SigningKey.findAll({ where: { retired_at: null }, order: [['created_at', 'ASC']] })).map(toKey),
    );
  }

  /** Inserts a key; when `active`, the previous active key of the same alg stops signing (but keeps verifying). */
  insert(key: Omit<SigningKeyRecord, 'retiredAt'>): Promise<void> {
    return dbCall('Signing key', async () => {
      await this.db.sequelize.transaction(async (transaction) => {
        if (key.active)
          await this.db.models.SigningKey.update({ active: false }, { where: { alg: key.alg, kid: { [Op.ne]: key.kid } }, transaction });
        await this.db.models.SigningKey.create(
          {
            kid: key.kid,
            alg: key.alg,
            public_jwk: key.publicJwk,
            private_jwk: key.privateJwk,
            active: key.active,
            created_at: key.createdAt,
            retired_at: null,
          },
          { transaction },
        );
      });
    });
  }

  retire(kid: string, at: Date): Promise<boolean> {
    return dbCall('Signing key', async () => {
      const [count] = await this.db.models.SigningKey.update({ retired_at: at, active: false }, { where: { kid, retired_at: null } });
      return count > 0;
    });
  }
}
