// OAuth2 / OpenID Connect (issue 12): registered clients (secret stored as SHA-256 only), authorization
// codes (SHA-256 only, single use, ≤ 60 s, so any replica can redeem them) and the grant behind each
// OAuth session (client, scope, auth_time), which refresh and userinfo need.
import { DataTypes, type QueryInterface } from 'sequelize';

export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.createTable('oauth_clients', {
    id: { type: DataTypes.STRING(64), primaryKey: true },
    tenant_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'tenants', key: 'id' }, onDelete: 'CASCADE' },
    name: { type: DataTypes.STRING(128), allowNull: false },
    secret_hash: { type: DataTypes.STRING(64), allowNull: true },
    redirect_uris: { type: DataTypes.TEXT, allowNull: false },
    scopes: { type: DataTypes.TEXT, allowNull: false },
    grant_types: { type: DataTypes.TEXT, allowNull: false },
    first_party: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    id_token_alg: { type: DataTypes.STRING(16), allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.createTable('oauth_codes', {
    code_hash: { type: DataTypes.STRING(64), primaryKey: true },
    client_id: { type: DataTypes.STRING(64), allowNull: false, references: { model: 'oauth_clients', key: 'id' }, onDelete: 'CASCADE' },
    user_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
    tenant_id: { type: DataTypes.UUID, allowNull: false },
    redirect_uri: { type: DataTypes.TEXT, allowNull: false },
    code_challenge: { type: DataTypes.STRING(128), allowNull: false },
    scope: { type: DataTypes.TEXT, allowNull: false },
    nonce: { type: DataTypes.TEXT, allowNull: true },
    auth_time: { type: DataTypes.DATE, allowNull: false },
    browser_session_id: { type: DataTypes.UUID, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
    expires_at: { type: DataTypes.DATE, allowNull: false },
    used_at: { type: DataTypes.DATE, allowNull: true },
    issued_session_id: { type: DataTypes.UUID, allowNull: true },
  });
  await qi.addIndex('oauth_codes', ['expires_at'], { name: 'oauth_codes_expires_idx' });
  await qi.createTable('oauth_grants', {
    session_id: { type: DataTypes.UUID, primaryKey: true, references: { model: 'sessions', key: 'id' }, onDelete: 'CASCADE' },
    client_id: { type: DataTypes.STRING(64), allowNull: false, references: { model: 'oauth_clients', key: 'id' }, onDelete: 'CASCADE' },
    scope: { type: DataTypes.TEXT, allowNull: false },
    auth_time: { type: DataTypes.DATE, allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('oauth_grants', ['client_id'], { name: 'oauth_grants_client_idx' });
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.dropTable('oauth_grants');
  await qi.dropTable('oauth_codes');
  await qi.dropTable('oauth_clients');
}
