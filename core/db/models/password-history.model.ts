// Sequelize model for password history: the bcrypt hashes of a user's recent passwords (SPEC §6: no
// reuse of the last 5). Only hashes are kept; the repository trims to the newest N per user.
import { DataTypes, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class PasswordHistoryModel extends Model<InferAttributes<PasswordHistoryModel>, InferCreationAttributes<PasswordHistoryModel>> {
  declare id: string;
  declare user_id: string;
  declare hash: string;
  declare created_at: Date;
}

export function initPasswordHistoryModel(sequelize: Sequelize): typeof PasswordHistoryModel {
  // A fresh subclass per connection, so two databases can be open in one process (tests, CLI).
  const Bound = class extends PasswordHistoryModel {};
  Bound.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      user_id: { type: DataTypes.UUID, allowNull: false },
      hash: { type: DataTypes.STRING(100), allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false },
    },
    { sequelize, tableName: 'password_history', modelName: 'PasswordHistory' },
  );
  return Bound;
}
