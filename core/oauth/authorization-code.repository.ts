// Authorization codes and OAuth grants. Codes are stored as SHA-256 only and spent by one conditional
// UPDATE (used_at IS NULL), so exactly one redemption wins on any replica, SQLite or PostgreSQL.
import { Op } from 'sequelize';
import type { Database } from '../db/database.js';
import type { OAuthCodeModel } from '../db/models/oauth.model.js';
import { dbCall } from '../db/translate-error.js';

export interface AuthorizationCode {
  codeHash: string;
  clientId: string;
  userId: string;
  tenantId: string;
  redirectUri: string;
  codeChallenge: string;
  scope: string;
  nonce: string | null;
  authTime: Date;
  browserSessionId: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  issuedSessionId: string | null;
}

export interface OAuthGrant {
  sessionId: string;
  clientId: string;
  scope: string;
  authTime: Date;
}

const toCode = (m: OAuthCodeModel): AuthorizationCode => ({
  codeHash: m.code_hash,
  clientId: m.client_id,
  userId: m.user_id,
  tenantId: m.tenant_id,
  redirectUri: m.redirect_uri,
  codeChallenge: m.code_challenge,
  scope: m.scope,
  nonce: m.nonce,
  authTime: new Date(m.auth_time),
  browserSessionId: m.browser_session_id,
  createdAt: new Date(m.created_at),
  expiresAt: new Date(m.expires_at),
  usedAt: m.used_at ? new Date(m.used_at) : null,
  issuedSessionId: m.issued_session_id,
});

export class AuthorizationCodeRepository {
  constructor(private readonly db: Database) {}

  create(code: Omit<AuthorizationCode, 'usedAt' | 'issuedSessionId'>): Promise<void> {
    return dbCall('Authorization code', async () => {
      await this.db.models.OAuthCode.create({
        code_hash: code.codeHash,
        client_id: code.clientId,
        user_id: code.userId,
        tenant_id: code.tenantId,
        redirect_uri: code.redirectUri,
        code_challenge: code.codeChallenge,
        scope: code.scope,
        nonce: code.nonce,
        auth_time: code.authTime,
        browser_session_id: code.browserSessionId,
        created_at: code.createdAt,
        expires_at: code.expiresAt,
        used_at: null,
        issued_session_id: null,
      });
    });
  }

  find(codeHash: string): Promise<AuthorizationCode | null> {
    return dbCall('Authorization code', async () => {
      const row = await this.db.models.OAuthCode.findByPk(codeHash);
      return row ? toCode(row) : null;
    });
  }

  /** Marks the code used; false when another redemption got there first. */
  spend(codeHash: string, at: Date): Promise<boolean> {
    return dbCall('Authorization code', async () => {
      const [count] = await this.db.models.OAuthCode.update({ used_at: at }, { where: { code_hash: codeHash, used_at: null } });
      return count > 0;
    });
  }

  /** Remembers which session the code produced, so a replayed code can revoke it (RFC 6749 §4.1.2). */
  setIssuedSession(codeHash: string, sessionId: string): Promise<void> {
    return dbCall('Authorization code', async () => {
      await this.db.models.OAuthCode.update({ issued_session_id: sessionId }, { where: { code_hash: codeHash } });
    });
  }

  purgeExpiredBefore(before: Date): Promise<number> {
    return dbCall('Authorization code', async () => this.db.models.OAuthCode.destroy({ where: { expires_at: { [Op.lt]: before } } }));
  }

  createGrant(grant: OAuthGrant, at: Date): Promise<void> {
    return dbCall('OAuth grant', async () => {
      await this.db.models.OAuthGrant.create({
        session_id: grant.sessionId,
        client_id: grant.clientId,
        scope: grant.scope,
        auth_time: grant.authTime,
        created_at: at,
      });
    });
  }

  findGrant(sessionId: string): Promise<OAuthGrant | null> {
    return dbCall('OAuth grant', async () => {
      const row = await this.db.models.OAuthGrant.findByPk(sessionId);
      return row ? { sessionId: row.session_id, clientId: row.client_id, scope: row.scope, authTime: new Date(row.auth_time) } : null;
    });
  }
}
