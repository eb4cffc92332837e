// Builds the OAuth2 / OIDC services from core's repositories and services (called by core/container.ts).
import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { SessionRepository } from '../repositories/session.repository.js';
import type { RevocationBus } from '../revocation/revocation-bus.js';
import type { AuthService } from '../services/auth.service.js';
import type { TenantDirectory } from '../services/tenant-directory.js';
import type { TokenService } from '../tokens/token.service.js';
import { AuthorizationCodeRepository } from './authorization-code.repository.js';
import { BrowserSessionService } from './browser-session.service.js';
import { ClientService } from './client.service.js';
import { OAuthClientRepository } from './oauth-client.repository.js';
import { OAuthService } from './oauth.service.js';

export interface OAuthServices {
  clients: ClientService;
  provider: OAuthService;
  browserSessions: BrowserSessionService;
}

export function createOAuthServices(d: {
  db: Database;
  users: UserRepository;
  sessions: SessionRepository;
  tenants: TenantDirectory;
  auth: AuthService;
  tokens: TokenService;
  revocation: RevocationBus;
  audit: AuditLog;
  clock: Clock;
  issuer: string;
  accessTtlMs: number;
  refreshIdleTtlMs: number;
}): OAuthServices {
  const clients = new ClientService({ repo: new OAuthClientRepository(d.db), tenants: d.tenants, auth: d.auth, audit: d.audit, clock: d.clock });
  const provider = new OAuthService({
    clients,
    codes: new AuthorizationCodeRepository(d.db),
    users: d.users,
    sessions: d.sessions,
    tenants: d.tenants,
    auth: d.auth,
    tokens: d.tokens,
    revocation: d.revocation,
    audit: d.audit,
    clock: d.clock,
    issuer: d.issuer,
    idTokenTtlSeconds: Math.floor(d.accessTtlMs / 1000),
  });
  const browserSessions = new BrowserSessionService({ auth: d.auth, clock: d.clock, idleTtlMs: d.refreshIdleTtlMs });
  return { clients, provider, browserSessions };
}

export { OAuthError, isOAuthError } from './oauth-error.js';
export { AuthorizePageError } from './oauth.service.js';
export { BrowserSessionService } from './browser-session.service.js';
export { safeReturnPath } from './return-url.js';
