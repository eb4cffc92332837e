// Audit trail schema: `audit_events` (hash-chained rows, unique seq) and `audit_anchors` (retention
// purge anchors). Append-only from the application's point of view (core/repositories/audit.repository.ts).
import { DataTypes, type QueryInterface } from 'sequelize';

export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.createTable('audit_events', {
    id: { type: DataTypes.UUID, primaryKey: true },
    seq: { type: DataTypes.BIGINT, allowNull: false, unique: true },
    time: { type: DataTypes.DATE, allowNull: false },
    actor: { type: DataTypes.STRING(128), allowNull: false },
    tenant: { type: DataTypes.STRING(63), allowNull: true },
    action: { type: DataTypes.STRING(64), allowNull: false },
    target: { type: DataTypes.STRING(128), allowNull: true },
    outcome: { type: DataTypes.STRING(16), allowNull: false },
    details: { type: DataTypes.TEXT, allowNull: false },
    ip: { type: DataTypes.STRING(64), allowNull: true },
    user_agent: { type: DataTypes.STRING(512), allowNull: true },
    pii_fields: { type: DataTypes.TEXT, allowNull: true },
    pii_salt: { type: DataTypes.STRING(32), allowNull: true },
    pii_digest: { type: DataTypes.STRING(64), allowNull: true },
    prev_hash: { type: DataTypes.STRING(64), allowNull: false },
    hash: { type: DataTypes.STRING(64), allowNull: false },
  });
  await qi.addIndex('audit_events', ['tenant', 'seq'], { name: 'audit_events_tenant_seq_idx' });
  await qi.addIndex('audit_events', ['actor'], { name: 'audit_events_actor_idx' });
  await qi.addIndex('audit_events', ['target'], { name: 'audit_events_target_idx' });
  await qi.addIndex('audit_events', ['action'], { name: 'audit_events_action_idx' });
  await qi.addIndex('audit_events', ['time'], { name: 'audit_events_time_idx' });
  await qi.createTable('audit_anchors', {
    seq: { type: DataTypes.BIGINT, primaryKey: true },
    hash: { type: DataTypes.STRING(64), allowNull: false },
    row_time: { type: DataTypes.DATE, allowNull: false },
    purged_count: { type: DataTypes.INTEGER, allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.dropTable('audit_anchors');
  await qi.dropTable('audit_events');
}
