// Foundation schema: tenants (with the default tenant), users, sessions, refresh tokens, signing keys.
import { randomUUID } from 'node:crypto';
import { DataTypes, type QueryInterface } from 'sequelize';

export const DEFAULT_TENANT_SLUG = 'default';

export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  const ts = { type: DataTypes.DATE, allowNull: false };
  const tsNull = { type: DataTypes.DATE, allowNull: true };
  await qi.createTable('tenants', {
    id: { type: DataTypes.UUID, primaryKey: true },
    slug: { type: DataTypes.STRING(63), allowNull: false, unique: true },
    name: { type: DataTypes.STRING(200), allowNull: false },
    disabled_at: tsNull,
    created_at: ts,
    updated_at: ts,
  });
  await qi.createTable('users', {
    id: { type: DataTypes.UUID, primaryKey: true },
    tenant_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'tenants', key: 'id' } },
    email: { type: DataTypes.STRING(320), allowNull: true },
    username: { type: DataTypes.STRING(100), allowNull: true },
    password_hash: { type: DataTypes.STRING(100), allowNull: true },
    roles: { type: DataTypes.JSON, allowNull: false },
    email_verified_at: tsNull,
    disabled_at: tsNull,
    locked_until: tsNull,
    failed_login_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    password_changed_at: tsNull,
    deleted_at: tsNull,
    created_at: ts,
    updated_at: ts,
  });
  await qi.addIndex('users', ['tenant_id', 'email'], { unique: true, name: 'users_tenant_email_unique' });
  await qi.addIndex('users', ['tenant_id', 'username'], { unique: true, name: 'users_tenant_username_unique' });
  await qi.createTable('sessions', {
    id: { type: DataTypes.UUID, primaryKey: true },
    user_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
    tenant_id: { type: DataTypes.UUID, allowNull: false },
    ip: { type: DataTypes.STRING(64), allowNull: true },
    user_agent: { type: DataTypes.STRING(512), allowNull: true },
    client_id: { type: DataTypes.STRING(128), allowNull: true },
    created_at: ts,
    last_used_at: ts,
    idle_expires_at: ts,
    absolute_expires_at: ts,
    revoked_at: tsNull,
    revoked_reason: { type: DataTypes.STRING(32), allowNull: true },
  });
  await qi.addIndex('sessions', ['user_id'], { name: 'sessions_user_idx' });
  await qi.addIndex('sessions', ['revoked_at'], { name: 'sessions_revoked_idx' });
  await qi.createTable('refresh_tokens', {
    id: { type: DataTypes.UUID, primaryKey: true },
    session_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'sessions', key: 'id' }, onDelete: 'CASCADE' },
    token_hash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    created_at: ts,
    spent_at: tsNull,
  });
  await qi.addIndex('refresh_tokens', ['session_id'], { name: 'refresh_tokens_session_idx' });
  await qi.createTable('signing_keys', {
    kid: { type: DataTypes.STRING(64), primaryKey: true },
    alg: { type: DataTypes.STRING(16), allowNull: false },
    public_jwk: { type: DataTypes.TEXT, allowNull: false },
    private_jwk: { type: DataTypes.TEXT, allowNull: false },
    active: { type: DataTypes.BOOLEAN, allowNull: false },
    created_at: ts,
    retired_at: tsNull,
  });
  const now = new Date();
  await qi.bulkInsert('tenants', [
    { id: randomUUID(), slug: DEFAULT_TENANT_SLUG, name: 'Default', disabled_at: null, created_at: now, updated_at: now },
  ]);
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  for (const table of ['refresh_tokens', 'sessions', 'users', 'signing_keys', 'tenants']) await qi.dropTable(table);
}
