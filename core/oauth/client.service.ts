// OAuth2 client registry: create (the secret is returned once and stored as SHA-256), list, delete, and
// client authentication for the token/revoke/introspect endpoints (client_secret_basic, client_secret_post,
// none + PKCE for public clients), with constant-time comparison.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { Errors } from '../errors.js';
import { randomToken, safeEqual, sha256Hex } from '../crypto/secrets.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuthService, RequestMeta } from '../services/auth.service.js';
import type { TenantDirectory } from '../services/tenant-directory.js';
import type { SigningAlg } from '../tokens/key-store.js';
import { OAuthError } from './oauth-error.js';
import type { GrantType, OAuthClient, OAuthClientRepository } from './oauth-client.repository.js';
import { DEFAULT_CLIENT_SCOPES, isScopeToken } from './scopes.js';

export interface CreateClientInput {
  name: string;
  redirectUris: string[];
  confidential: boolean;
  scopes?: string[];
  firstParty?: boolean;
  tenant?: string;
  idTokenAlg?: SigningAlg;
  /** client_credentials is offered to confidential clients only. */
  grantTypes?: GrantType[];
}

/** The JSON shape `authctl clients list --json` prints (never the secret hash). */
export interface ClientView {
  client_id: string;
  name: string;
  tenant: string;
  type: 'confidential' | 'public';
  redirect_uris: string[];
  scopes: string[];
  grant_types: GrantType[];
  first_party: boolean;
  id_token_signed_response_alg: SigningAlg;
  created_at: string;
}

/** How the client authenticated at an endpoint (RFC 6749 §2.3, OIDC Core §9). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface ClientCredentials {
  /** From `Authorization: Basic` (already form-decoded, RFC 6749 §2.3.1). */
  basic: { id: string; secret: string } | null;
  /** From the form body. */
  clientId: string | undefined;
  clientSecret: string | undefined;
}

export interface AuthenticatedClient {
  client: OAuthClient;
  method: ClientAuthMethod;
}

const NAME = /^[\p{L}\p{N} ._-]{1,128}$/u;

/** Redirect URIs: absolute, no fragment (RFC 6749 §3.1.2); https, or http only for loopback/localhost. */
export function redirectUriProblem(uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.hash !== '' || uri.includes('#')) return 'must not contain a fragment';
  if (url.username !== '' || url.password !== '') return 'must not contain user information';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') {
    const host = url.hostname;
    if (host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host.endsWith('.localhost')) return null;
    return 'must use https (http only for localhost / loopback)';
  }
  // Private-use URI schemes for native apps (RFC 8252 §7.1) contain a dot: com.example.app:/cb.
  if (/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)) return null;
  return 'must use https';
}

export class ClientService {
  constructor(
    private readonly d: {
      repo: OAuthClientRepository;
      tenants: TenantDirectory;
      auth: AuthService;
      audit: AuditLog;
      clock: Clock;
    },
  ) {}

  async create(input: CreateClientInput, actor: string): Promise<{ client: OAuthClient; secret: string | null }> {
    const errors: { field: string; message: string }[] = [];
    const name = input.name.trim();
    if (!NAME.test(name)) errors.push({ field: 'name', message: 'must be 1-128 letters, digits, spaces, ".", "_" or "-"' });
    for (const uri of input.redirectUris) {
      const problem = redirectUriProblem(uri);
      if (problem) errors.push({ field: 'redirect_uri', message: `${uri}: ${problem}` });
    }
    const scopes = input.scopes && input.scopes.length ? [...new Set(input.scopes)] : [...DEFAULT_CLIENT_SCOPES];
    for (const s of scopes) if (!isScopeToken(s)) errors.push({ field: 'scopes', message: `"${s}" is not a valid scope token (RFC 6749 §3.3)` });
    const grantTypes: GrantType[] = input.grantTypes ?? (input.confidential ? ['authorization_code', 'refresh_token', 'client_credentials'] : ['authorization_code', 'refresh_token']);
    if (!input.confidential && grantTypes.includes('client_credentials'))
      errors.push({ field: 'grant_types', message: 'client_credentials needs a confidential client' });
    if (grantTypes.includes('authorization_code') && input.redirectUris.length === 0 && !errors.some((e) => e.field === 'redirect_uri'))
      errors.push({ field: 'redirect_uri', message: 'at least one is required' });
    if (errors.length) throw Errors.validation(errors, 'The client registration is invalid.');
    const tenant = await this.d.tenants.resolve(input.tenant);
    const secret = input.confidential ? randomToken(32) : null;
    const client = await this.d.repo.create({
      // 128 random bits: client ids are public but must not be guessable for enumeration.
      id: randomBytes(16).toString('base64url'),
      tenantId: tenant.id,
      name,
      secretHash: secret === null ? null : sha256Hex(secret),
      redirectUris: [...new Set(input.redirectUris)],
      scopes,
      grantTypes,
      firstParty: input.firstParty ?? false,
      idTokenAlg: input.idTokenAlg ?? 'EdDSA',
      createdAt: new Date(this.d.clock.now()),
    });
    await this.d.audit.record({ action: 'oauth2.client.created', actor, tenant: tenant.slug, target: client.id, outcome: 'success', details: { name, confidential: input.confidential } });
    return { client, secret };
  }

  async list(): Promise<ClientView[]> {
    const clients = await this.d.repo.list();
    return Promise.all(clients.map((c) => this.view(c)));
  }

  async view(c: OAuthClient): Promise<ClientView> {
    return {
      client_id: c.id,
      name: c.name,
      tenant: await this.d.tenants.slugOf(c.tenantId),
      type: c.secretHash === null ? 'public' : 'confidential',
      redirect_uris: c.redirectUris,
      scopes: c.scopes,
      grant_types: c.grantTypes,
      first_party: c.firstParty,
      id_token_signed_response_alg: c.idTokenAlg,
      created_at: c.createdAt.toISOString(),
    };
  }

  /** Deletes a client and revokes every session it was granted (its refresh tokens stop working). */
  async delete(id: string, actor: string, meta: RequestMeta): Promise<void> {
    const client = await this.d.repo.findById(id);
    if (!client) throw Errors.notFound('OAuth client');
    const sessionIds = await this.d.repo.grantSessionIds(id);
    for (const sid of sessionIds) await this.d.auth.revokeSession(client.tenantId, sid, 'admin', actor, meta);
    await this.d.repo.delete(id);
    await this.d.audit.record({ action: 'oauth2.client.deleted', actor, tenant: await this.d.tenants.slugOf(client.tenantId), target: id, outcome: 'success', details: { revoked_sessions: sessionIds.length } });
  }

  find(id: string): Promise<OAuthClient | null> {
    return this.d.repo.findById(id);
  }

  /**
   * Authenticates the calling client. Exactly one method may be used (RFC 6749 §2.3); a confidential client
   * must present its secret; a public client may only identify itself (`none`). Failures are invalid_client
   * (401, with `WWW-Authenticate: Basic` when Basic was tried, RFC 6749 §5.2).
   */
  async authenticate(creds: ClientCredentials): Promise<AuthenticatedClient> {
    const fail = (description: string) =>
      new OAuthError('invalid_client', description, 401, creds.basic ? { 'www-authenticate': 'Basic realm="authgate"' } : undefined);
    if (creds.basic && (creds.clientSecret !== undefined || (creds.clientId !== undefined && creds.clientId !== creds.basic.id)))
      throw new OAuthError('invalid_request', 'Use exactly one client authentication method.');
    const id = creds.basic?.id ?? creds.clientId;
    const secret = creds.basic?.secret ?? creds.clientSecret;
    if (id === undefined || id === '') throw fail('Client authentication is required.');
    const client = id.length <= 64 ? await this.d.repo.findById(id) : null;
    if (!client) {
      // Same work as a real comparison: unknown ids are not distinguishable by timing.
      safeEqual(sha256Hex(secret ?? ''), sha256Hex('unknown-client'));
      throw fail('Client authentication failed.');
    }
    if (client.secretHash === null) {
      if (secret !== undefined && secret !== '') throw fail('Client authentication failed.');
      return { client, method: 'none' };
    }
    if (secret === undefined || !safeEqual(sha256Hex(secret), client.secretHash)) throw fail('Client authentication failed.');
    return { client, method: creds.basic ? 'client_secret_basic' : 'client_secret_post' };
  }
}
