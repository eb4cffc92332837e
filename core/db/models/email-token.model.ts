// Sequelize model for one-time email tokens (password reset, email verification): only the SHA-256
// of the token is stored; used_at marks it spent (or superseded by a newer reset request).
import { DataTypes, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class EmailTokenModel extends Model<InferAttributes<EmailTokenModel>, InferCreationAttributes<EmailTokenModel>> {
  declare id: string;
  declare user_id: string;
  declare tenant_id: string;
  declare purpose: string;
  declare token_hash: string;
  declare created_at: Date;
  declare expires_at: Date;
  declare used_at: Date | null;
}

export function initEmailTokenModel(sequelize: Sequelize): typeof EmailTokenModel {
  // A fresh subclass per connection, so two databases can be open in one process (tests, CLI).
  const Bound = class extends EmailTokenModel {};
  Bound.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      user_id: { type: DataTypes.UUID, allowNull: false },
      tenant_id: { type: DataTypes.UUID, allowNull: false },
      purpose: { type: DataTypes.STRING(16), allowNull: false },
      token_hash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      created_at: { type: DataTypes.DATE, allowNull: false },
      expires_at: { type: DataTypes.DATE, allowNull: false },
      used_at: { type: DataTypes.DATE, allowNull: true },
    },
    { sequelize, tableName: 'email_tokens', modelName: 'EmailToken' },
  );
  return Bound;
}
