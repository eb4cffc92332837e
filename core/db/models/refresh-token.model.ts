// Sequelize model for refresh tokens: only the SHA-256 of the opaque token is stored; spent_at marks rotation.
import { DataTypes, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class RefreshTokenModel extends Model<InferAttributes<RefreshTokenModel>, InferCreationAttributes<RefreshTokenModel>> {
  declare id: string;
  declare session_id: string;
  declare token_hash: string;
  declare created_at: Date;
  declare spent_at: Date | null;
}

export function initRefreshTokenModel(sequelize: Sequelize): typeof RefreshTokenModel {
  // A fresh subclass per connection, so two databases can be open in one process (tests, CLI).
  const Bound = class extends RefreshTokenModel {};
  Bound.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      session_id: { type: DataTypes.UUID, allowNull: false },
      token_hash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      created_at: { type: DataTypes.DATE, allowNull: false },
      spent_at: { type: DataTypes.DATE, allowNull: true },
    },
    { sequelize, tableName: 'refresh_tokens', modelName: 'RefreshToken' },
  );
  return Bound;
}
