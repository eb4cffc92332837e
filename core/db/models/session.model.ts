// Sequelize model for sessions: device info, rolling idle expiry, absolute expiry, soft revocation.
import { DataTypes, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class SessionModel extends Model<InferAttributes<SessionModel>, InferCreationAttributes<SessionModel>> {
  declare id: string;
  declare user_id: string;
  declare tenant_id: string;
  declare ip: string | null;
  declare user_agent: string | null;
  declare client_id: string | null;
  declare created_at: Date;
  declare last_used_at: Date;
  declare idle_expires_at: Date;
  declare absolute_expires_at: Date;
  declare revoked_at: Date | null;
  declare revoked_reason: string | null;
}

export function initSessionModel(sequelize: Sequelize): typeof SessionModel {
  // A fresh subclass per connection, so two databases can be open in one process (tests, CLI).
  const Bound = class extends SessionModel {};
  Bound.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      user_id: { type: DataTypes.UUID, allowNull: false },
      tenant_id: { type: DataTypes.UUID, allowNull: false },
      ip: { type: DataTypes.STRING(64), allowNull: true },
      user_agent: { type: DataTypes.STRING(512), allowNull: true },
      client_id: { type: DataTypes.STRING(128), allowNull: true },
      created_at: { type: DataTypes.DATE, allowNull: false },
      last_used_at: { type: DataTypes.DATE, allowNull: false },
      idle_expires_at: { type: DataTypes.DATE, allowNull: false },
      absolute_expires_at: { type: DataTypes.DATE, allowNull: false },
      revoked_at: { type: DataTypes.DATE, allowNull: true },
      revoked_reason: { type: DataTypes.STRING(32), allowNull: true },
    },
    { sequelize, tableName: 'sessions', modelName: 'Session' },
  );
  return Bound;
}
