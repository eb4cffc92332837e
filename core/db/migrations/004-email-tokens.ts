// One-time email tokens for password reset and email verification (issue 11): SHA-256 hashes only,
// bound to a user and tenant, single use (used_at), with an expiry.
import { DataTypes, type QueryInterface } from 'sequelize';

export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.createTable('email_tokens', {
    id: { type: DataTypes.UUID, primaryKey: true },
    user_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
    tenant_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'tenants', key: 'id' }, onDelete: 'CASCADE' },
    purpose: { type: DataTypes.STRING(16), allowNull: false },
    token_hash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
    expires_at: { type: DataTypes.DATE, allowNull: false },
    used_at: { type: DataTypes.DATE, allowNull: true },
  });
  // "A newer reset request invalidates older unused ones" looks tokens up by (user, purpose).
  await qi.addIndex('email_tokens', ['user_id', 'purpose'], { name: 'email_tokens_user_purpose_idx' });
  await qi.addIndex('email_tokens', ['expires_at'], { name: 'email_tokens_expires_idx' });
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.dropTable('email_tokens');
}
