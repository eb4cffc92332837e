// Sequelize model for users: normalised email unique per tenant, bcrypt hash, roles array, lockout state.
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class UserModel extends Model<InferAttributes<UserModel>, InferCreationAttributes<UserModel>> {
  declare id: string;
  declare tenant_id: string;
  declare email: string | null;
  declare username: string | null;
  declare password_hash: string | null;
  declare roles: string[];
  declare email_verified_at: Date | null;
  declare disabled_at: Date | null;
  declare locked_until: Date | null;
  declare failed_login_count: CreationOptional<number>;
  declare password_changed_at: Date | null;
  declare deleted_at: Date | null;
  declare created_at: Date;
  declare updated_at: Date;
}

export function initUserModel(sequelize: Sequelize): typeof UserModel {
  // A fresh subclass per connection, so two databases can be open in one process (tests, CLI).
  const Bound = class extends UserModel {};
  Bound.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      tenant_id: { type: DataTypes.UUID, allowNull: false },
      email: { type: DataTypes.STRING(320), allowNull: true },
      username: { type: DataTypes.STRING(100), allowNull: true },
      password_hash: { type: DataTypes.STRING(100), allowNull: true },
      roles: { type: DataTypes.JSON, allowNull: false },
      email_verified_at: { type: DataTypes.DATE, allowNull: true },
      disabled_at: { type: DataTypes.DATE, allowNull: true },
      locked_until: { type: DataTypes.DATE, allowNull: true },
      failed_login_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      password_changed_at: { type: DataTypes.DATE, allowNull: true },
      deleted_at: { type: DataTypes.DATE, allowNull: true },
      created_at: { type: DataTypes.DATE, allowNull: false },
      updated_at: { type: DataTypes.DATE, allowNull: false },
    },
    { sequelize, tableName: 'users', modelName: 'User' },
  );
  return Bound;
}
