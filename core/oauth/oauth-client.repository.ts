// OAuth2 client persistence. The secret is stored only as its SHA-256 (a 256-bit random secret needs no
// slow hash: there is nothing to brute-force). Returns plain OAuthClient objects.
import type { Database } from '../db/database.js';
import type { OAuthClientModel } from '../db/models/oauth.model.js';
import { dbCall } from '../db/translate-error.js';
import type { SigningAlg } from '../tokens/key-store.js';

export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';

export interface OAuthClient {
  id: string;
  tenantId: string;
  name: string;
  /** null: a public client (authenticates with `none` + PKCE). */
  secretHash: string | null;
  redirectUris: string[];
  scopes: string[];
  grantTypes: GrantType[];
  firstParty: boolean;
  idTokenAlg: SigningAlg;
  createdAt: Date;
}

const strings = (json: string): string[] => {
  const v = JSON.parse(json) as unknown;
  return Array.isArray(v) ? v.map(String) : [];
};

const toClient = (m: OAuthClientModel): OAuthClient => ({
  id: m.id,
  tenantId: m.tenant_id,
  name: m.name,
  secretHash: m.secret_hash,
  redirectUris: strings(m.redirect_uris),
  scopes: strings(m.scopes),
  grantTypes: strings(m.grant_types) as GrantType[],
  firstParty: Boolean(m.first_party),
  idTokenAlg: m.id_token_alg === 'RS256' ? 'RS256' : 'EdDSA',
  createdAt: new Date(m.created_at),
});

export class OAuthClientRepository {
  constructor(private readonly db: Database) {}

  create(c: OAuthClient): Promise<OAuthClient> {
    return dbCall('OAuth client', async () =>
      toClient(
        await this.db.models.OAuthClient.create({
          id: c.id,
          tenant_id: c.tenantId,
          name: c.name,
          secret_hash: c.secretHash,
          redirect_uris: JSON.stringify(c.redirectUris),
          scopes: JSON.stringify(c.scopes),
          grant_types: JSON.stringify(c.grantTypes),
          first_party: c.firstParty,
          id_token_alg: c.idTokenAlg,
          created_at: c.createdAt,
        }),
      ),
    );
  }

  findById(id: string): Promise<OAuthClient | null> {
    return dbCall('OAuth client', async () => {
      const row = await this.db.models.OAuthClient.findByPk(id);
      return row ? toClient(row) : null;
    });
  }

  list(filter: { tenantId?: string } = {}): Promise<OAuthClient[]> {
    return dbCall('OAuth client', async () =>
      (
        await this.db.models.OAuthClient.findAll({
          where: filter.tenantId ? { tenant_id: filter.tenantId } : {},
          order: [['created_at', 'ASC']],
        })
      ).map(toClient),
    );
  }

  /** Deletes a client; its codes and grants go with it (ON DELETE CASCADE). */
  delete(id: string): Promise<boolean> {
    return dbCall('OAuth client', async () => {
      await this.db.models.OAuthCode.destroy({ where: { client_id: id } });
      await this.db.models.OAuthGrant.destroy({ where: { client_id: id } });
      return (await this.db.models.OAuthClient.destroy({ where: { id } })) > 0;
    });
  }

  /** Session ids of the client's grants (to revoke them when the client is deleted). */
  grantSessionIds(clientId: string): Promise<string[]> {
    return dbCall('OAuth grant', async () =>
      (await this.db.models.OAuthGrant.findAll({ where: { client_id: clientId }, attributes: ['session_id'] })).map((g) => g.session_id),
    );
  }
}
