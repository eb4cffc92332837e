// Sequelize model for tenants (slug-addressed; a "default" tenant serves single-tenant installs).
import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class TenantModel extends Model<InferAttributes<TenantModel>, InferCreationAttributes<TenantModel>> {
  declare id: string;
  declare slug: string;
  declare name: string;
  declare disabled_at: Date | null;
  declare created_at: Date;
  declare updated_at: CreationOptional<Date>;
}

export function initTenantModel(sequelize: Sequelize): typeof TenantModel {
  // A fresh subclass per connection, so two databases can be open in one process (tests, CLI).
  const Bound = class extends TenantModel {};
  Bound.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      slug: { type: DataTypes.STRING(63), allowNull: false, unique: true },
      name: { type: DataTypes.STRING(200), allowNull: false },
      disabled_at: { type: DataTypes.DATE, allowNull: true },
      created_at: { type: DataTypes.DATE, allowNull: false },
      updated_at: { type: DataTypes.DATE, allowNull: false },
    },
    { sequelize, tableName: 'tenants', modelName: 'Tenant' },
  );
  return Bound;
}
