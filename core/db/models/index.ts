// Registers every Sequelize model on a connection. Only repositories may use the returned models.
import type { Sequelize } from 'sequelize';
import { initTenantModel } from './tenant.model.js';
import { initUserModel } from './user.model.js';
import { initSessionModel } from './session.model.js';
import { initRefreshTokenModel } from './refresh-token.model.js';
import { initSigningKeyModel } from './signing-key.model.js';
import { initAuditAnchorModel, initAuditEventModel } from './audit-event.model.js';
import { initEmailTokenModel } from './email-token.model.js';
import { initPasswordHistoryModel } from './password-history.model.js';
import { initOAuthModels } from './oauth.model.js';

export function registerModels(sequelize: Sequelize) {
  return {
    Tenant: initTenantModel(sequelize),
    User: initUserModel(sequelize),
    Session: initSessionModel(sequelize),
    RefreshToken: initRefreshTokenModel(sequelize),
    SigningKey: initSigningKeyModel(sequelize),
    AuditEvent: initAuditEventModel(sequelize),
    AuditAnchor: initAuditAnchorModel(sequelize),
    EmailToken: initEmailTokenModel(sequelize),
    PasswordHistory: initPasswordHistoryModel(sequelize),
    ...initOAuthModels(sequelize),
  };
}

export type Models = ReturnType<typeof registerModels>;
