// Sequelize model for token signing keys: JWKs (private part stored in the database), active/retired state.
import { DataTypes, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class SigningKeyModel extends Model<InferAttributes<SigningKeyModel>, InferCreationAttributes<SigningKeyModel>> {
  declare kid: string;
  declare alg: string;
  declare public_jwk: string;
  declare private_jwk: string;
  declare active: boolean;
  declare created_at: Date;
  declare retired_at: Date | null;
}

export function initSigningKeyModel(sequelize: Sequelize): typeof SigningKeyModel {
  // A fresh subclass per connection, so two databases can be open in one process (tests, CLI).
  const Bound = class extends SigningKeyModel {};
  Bound.init(
    {
      kid: { type: DataTypes.STRING(64), primaryKey: true },
      alg: { type: DataTypes.STRING(16), allowNull: false },
      public_jwk: { type: DataTypes.TEXT, allowNull: false },
      private_jwk: { type: DataTypes.TEXT, allowNull: false },
      active: { type: DataTypes.BOOLEAN, allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false },
      retired_at: { type: DataTypes.DATE, allowNull: true },
    },
    { sequelize, tableName: 'signing_keys', modelName: 'SigningKey' },
  );
  return Bound;
}
