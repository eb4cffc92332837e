// Sequelize models for OAuth2 clients, authorization codes and OAuth grants (issue 12). Secrets and codes
// are stored as SHA-256 hex only; only core/oauth/*.repository.ts uses these models.
import { DataTypes, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class OAuthClientModel extends Model<InferAttributes<OAuthClientModel>, InferCreationAttributes<OAuthClientModel>> {
  declare id: string;
  declare tenant_id: string;
  declare name: string;
  declare secret_hash: string | null;
  declare redirect_uris: string;
  declare scopes: string;
  declare grant_types: string;
  declare first_party: boolean;
  declare id_token_alg: string;
  declare created_at: Date;
}

export class OAuthCodeModel extends Model<InferAttributes<OAuthCodeModel>, InferCreationAttributes<OAuthCodeModel>> {
  declare code_hash: string;
  declare client_id: string;
  declare user_id: string;
  declare tenant_id: string;
  declare redirect_uri: string;
  declare code_challenge: string;
  declare scope: string;
  declare nonce: string | null;
  declare auth_time: Date;
  declare browser_session_id: string | null;
  declare created_at: Date;
  declare expires_at: Date;
  declare used_at: Date | null;
  declare issued_session_id: string | null;
}

export class OAuthGrantModel extends Model<InferAttributes<OAuthGrantModel>, InferCreationAttributes<OAuthGrantModel>> {
  declare session_id: string;
  declare client_id: string;
  declare scope: string;
  declare auth_time: Date;
  declare created_at: Date;
}

export function initOAuthModels(sequelize: Sequelize) {
  // Fresh subclasses per connection, so two databases can be open in one process (tests, CLI).
  const Client = class extends OAuthClientModel {};
  Client.init(
    {
      id: { type: DataTypes.STRING(64), primaryKey: true },
      tenant_id: { type: DataTypes.UUID, allowNull: false },
      name: { type: DataTypes.STRING(128), allowNull: false },
      secret_hash: { type: DataTypes.STRING(64), allowNull: true },
      redirect_uris: { type: DataTypes.TEXT, allowNull: false },
      scopes: { type: DataTypes.TEXT, allowNull: false },
      grant_types: { type: DataTypes.TEXT, allowNull: false },
      first_party: { type: DataTypes.BOOLEAN, allowNull: false },
      id_token_alg: { type: DataTypes.STRING(16), allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false },
    },
    { sequelize, tableName: 'oauth_clients', modelName: 'OAuthClient' },
  );
  const Code = class extends OAuthCodeModel {};
  Code.init(
    {
      code_hash: { type: DataTypes.STRING(64), primaryKey: true },
      client_id: { type: DataTypes.STRING(64), allowNull: false },
      user_id: { type: DataTypes.UUID, allowNull: false },
      tenant_id: { type: DataTypes.UUID, allowNull: false },
      redirect_uri: { type: DataTypes.TEXT, allowNull: false },
      code_challenge: { type: DataTypes.STRING(128), allowNull: false },
      scope: { type: DataTypes.TEXT, allowNull: false },
      nonce: { type: DataTypes.TEXT, allowNull: true },
      auth_time: { type: DataTypes.DATE, allowNull: false },
      browser_session_id: { type: DataTypes.UUID, allowNull: true },
      created_at: { type: DataTypes.DATE, allowNull: false },
      expires_at: { type: DataTypes.DATE, allowNull: false },
      used_at: { type: DataTypes.DATE, allowNull: true },
      issued_session_id: { type: DataTypes.UUID, allowNull: true },
    },
    { sequelize, tableName: 'oauth_codes', modelName: 'OAuthCode' },
  );
  const Grant = class extends OAuthGrantModel {};
  Grant.init(
    {
      session_id: { type: DataTypes.UUID, primaryKey: true },
      client_id: { type: DataTypes.STRING(64), allowNull: false },
      scope: { type: DataTypes.TEXT, allowNull: false },
      auth_time: { type: DataTypes.DATE, allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false },
    },
    { sequelize, tableName: 'oauth_grants', modelName: 'OAuthGrant' },
  );
  return { OAuthClient: Client, OAuthCode: Code, OAuthGrant: Grant };
}
