// Sequelize models for the audit trail: `audit_events` (the hash-chained, append-only rows) and
// `audit_anchors` (seq + hash of the last row removed by a retention purge; verify starts there).
import { DataTypes, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class AuditEventModel extends Model<InferAttributes<AuditEventModel>, InferCreationAttributes<AuditEventModel>> {
  declare id: string;
  /** BIGINT: PostgreSQL returns it as a string; the repository converts. */
  declare seq: number | string;
  declare time: Date;
  declare actor: string;
  declare tenant: string | null;
  declare action: string;
  declare target: string | null;
  declare outcome: string;
  /** Canonical JSON text (stored as text so the hashed bytes never get reformatted by the database). */
  declare details: string;
  declare ip: string | null;
  declare user_agent: string | null;
  /** Personal fields split off details (JSON text), erasable. */
  declare pii_fields: string | null;
  declare pii_salt: string | null;
  declare pii_digest: string | null;
  declare prev_hash: string;
  declare hash: string;
}

export class AuditAnchorModel extends Model<InferAttributes<AuditAnchorModel>, InferCreationAttributes<AuditAnchorModel>> {
  declare seq: number | string;
  declare hash: string;
  declare row_time: Date;
  declare purged_count: number;
  declare created_at: Date;
}

export function initAuditEventModel(sequelize: Sequelize): typeof AuditEventModel {
  // A fresh subclass per connection, so two databases can be open in one process (tests, CLI).
  const Bound = class extends AuditEventModel {};
  Bound.init(
    {
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
    },
    { sequelize, tableName: 'audit_events', modelName: 'AuditEvent' },
  );
  return Bound;
}

export function initAuditAnchorModel(sequelize: Sequelize): typeof AuditAnchorModel {
  const Bound = class extends AuditAnchorModel {};
  Bound.init(
    {
      seq: { type: DataTypes.BIGINT, primaryKey: true },
      hash: { type: DataTypes.STRING(64), allowNull: false },
      row_time: { type: DataTypes.DATE, allowNull: false },
      purged_count: { type: DataTypes.INTEGER, allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false },
    },
    { sequelize, tableName: 'audit_anchors', modelName: 'AuditAnchor' },
  );
  return Bound;
}
