// The OAuth2 / OpenID Connect provider logic: authorization requests (code flow, PKCE S256 required for
// every client, exact redirect_uri), code issuance, the token endpoint grants (authorization_code,
// refresh_token, client_credentials), ID tokens, userinfo, revocation (RFC 7009) and introspection
// (RFC 7662). HTTP shaping lives in proxy/handlers/oauth.handlers.ts.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { isAppError } from '../errors.js';
import { randomToken, sha256Hex } from '../crypto/secrets.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { User } from '../domain/types.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { SessionRepository } from '../repositories/session.repository.js';
import type { RevocationBus } from '../revocation/revocation-bus.js';
import type { AuthContext, AuthService, RequestMeta } from '../services/auth.service.js';
import type { TenantDirectory } from '../services/tenant-directory.js';
import type { TokenService, VerifiedToken } from '../tokens/token.service.js';
import type { AuthorizationCodeRepository } from './authorization-code.repository.js';
import type { AuthenticatedClient, ClientService } from './client.service.js';
import type { OAuthClient } from './oauth-client.repository.js';
import { OAuthError, oauthError } from './oauth-error.js';
import { hasScope, isCodeVerifier, isS256Challenge, parseScope, verifyS256 } from './scopes.js';

/** Codes live at most this long (issue 12: ≤ 60 s; RFC 6749 §4.1.2 recommends ≤ 10 min). */
export const CODE_TTL_MS = 60_000;
/** Prefix of the synthetic `sid` of client_credentials tokens (they have no session). */
export const CLIENT_CREDENTIALS_SID = 'cc-';

export type AuthorizeParams = Readonly<Record<string, string>>;

/** A validated authorization request (after the client and redirect_uri are trusted). */
export interface AuthorizationRequest {
  client: OAuthClient;
  redirectUri: string;
  state: string | undefined;
  scope: string;
  nonce: string | undefined;
  codeChallenge: string;
  prompt: ReadonlySet<string>;
  maxAgeSec: number | undefined;
  /** Internal: after `prompt=login`, the login must have happened at or after this time (unix seconds). */
  authAfterSec: number | undefined;
  loginHint: string | undefined;
  params: AuthorizeParams;
}

/** The browser's signed-in session at the authorization endpoint. */
export interface BrowserIdentity {
  auth: AuthContext;
}

export type AuthorizeOutcome =
  | { kind: 'redirect'; location: string }
  | { kind: 'login'; returnTo: string; tenant: string; loginHint: string | undefined }
  | { kind: 'consent'; request: AuthorizationRequest; user: User };

/** An error shown on authgate's own page: the redirect_uri cannot be trusted (RFC 6749 §4.1.2.1). */
export class AuthorizePageError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client',
    readonly description: string,
  ) {
    super(description);
    this.name = 'AuthorizePageError';
  }
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

export interface OAuthServiceDeps {
  clients: ClientService;
  codes: AuthorizationCodeRepository;
  users: UserRepository;
  sessions: SessionRepository;
  tenants: TenantDirectory;
  auth: AuthService;
  tokens: TokenService;
  revocation: RevocationBus;
  audit: AuditLog;
  clock: Clock;
  issuer: string;
  idTokenTtlSeconds: number;
}

const MAX_PARAM = 2048;

export class OAuthService {
  constructor(private readonly d: OAuthServiceDeps) {}

  private now(): Date {
    return new Date(this.d.clock.now());
  }

  // --- authorization endpoint -----------------------------------------------------------------

  /** Step 1: client and redirect_uri. Until both are trusted, errors go on a page, never to a URL. */
  async trustedClient(params: AuthorizeParams): Promise<{ client: OAuthClient; redirectUri: string }> {
    const clientId = params.client_id;
    if (!clientId) throw new AuthorizePageError('invalid_request', 'The client_id parameter is missing.');
    const client = clientId.length <= 64 ? await this.d.clients.find(clientId) : null;
    if (!client) throw new AuthorizePageError('invalid_client', 'The client is not registered.');
    const redirectUri = params.redirect_uri;
    if (!redirectUri) throw new AuthorizePageError('invalid_request', 'The redirect_uri parameter is missing.');
    // Exact string comparison (OAuth 2.1 §4.1.1, RFC 9700 §2.1): no prefix, no normalisation.
    if (!client.redirectUris.includes(redirectUri))
      throw new AuthorizePageError('invalid_request', 'The redirect_uri does not match any URI registered for this client.');
    return { client, redirectUri };
  }

  /** Step 2: everything else; errors from here are redirected to the client (RFC 6749 §4.1.2.1). */
  validateRequest(client: OAuthClient, redirectUri: string, params: AuthorizeParams): AuthorizationRequest {
    for (const [k, v] of Object.entries(params)) if (v.length > MAX_PARAM) throw oauthError('invalid_request', `The ${k} parameter is too long.`);
    if (params.request !== undefined) throw oauthError('request_not_supported', 'Request objects are not supported.');
    if (params.request_uri !== undefined) throw oauthError('request_uri_not_supported', 'request_uri is not supported.');
    if (params.response_mode !== undefined && params.response_mode !== 'query') throw oauthError('invalid_request', 'Only response_mode=query is supported.');
    if (params.response_type !== 'code')
      throw oauthError(params.response_type ? 'unsupported_response_type' : 'invalid_request', 'Only response_type=code is supported.');
    if (!client.grantTypes.includes('authorization_code')) throw oauthError('unauthorized_client', 'The client may not use the authorization code grant.');
    // PKCE is required for every client, confidential ones too (OAuth 2.1 §4.1.1, RFC 9700 §2.1.1).
    const challenge = params.code_challenge;
    if (!challenge) throw oauthError('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256.');
    // An absent method means `plain` (RFC 7636 §4.3), which is refused like an explicit `plain`.
    if (params.code_challenge_method !== 'S256') throw oauthError('invalid_request', 'code_challenge_method must be S256; plain is not supported.');
    if (!isS256Challenge(challenge)) throw oauthError('invalid_request', 'code_challenge must be a base64url SHA-256 (43 characters).');
    const scopes = parseScope(params.scope);
    if (scopes === null) throw oauthError('invalid_scope', 'The scope parameter is malformed.');
    const notAllowed = scopes.filter((s) => !client.scopes.includes(s));
    if (notAllowed.length) throw oauthError('invalid_scope', `Scope not allowed for this client: ${notAllowed.join(' ')}.`);
    const prompt = new Set((params.prompt ?? '').split(' ').filter((p) => p !== ''));
    for (const p of prompt) if (!['none', 'login', 'consent', 'select_account'].includes(p)) throw oauthError('invalid_request', `Unsupported prompt value: ${p}.`);
    if (prompt.has('none') && prompt.size > 1) throw oauthError('invalid_request', 'prompt=none cannot be combined with other values.');
    let maxAgeSec: number | undefined;
    if (params.max_age !== undefined) {
      if (!/^\d{1,9}$/.test(params.max_age)) throw oauthError('invalid_request', 'max_age must be a non-negative integer.');
      maxAgeSec = Number(params.max_age);
    }
    let authAfterSec: number | undefined;
    if (params.auth_after !== undefined) {
      if (!/^\d{1,12}$/.test(params.auth_after) || Number(params.auth_after) * 1000 > this.d.clock.now() + 60_000)
        throw oauthError('invalid_request', 'auth_after is invalid.');
      authAfterSec = Number(params.auth_after);
    }
    return {
      client,
      redirectUri,
      state: params.state,
      scope: scopes.join(' '),
      nonce: params.nonce,
      codeChallenge: challenge,
      prompt,
      maxAgeSec,
      authAfterSec,
      loginHint: params.login_hint,
      params,
    };
  }

  /** The redirect carrying an error, with `state` and `iss` (RFC 6749 §4.1.2.1, RFC 9207). */
  errorRedirect(redirectUri: string, state: string | undefined, err: OAuthError): string {
    const url = new URL(redirectUri);
    url.searchParams.set('error', err.error);
    if (err.detail) url.searchParams.set('error_description', err.detail);
    if (state !== undefined) url.searchParams.set('state', state);
    url.searchParams.set('iss', this.d.issuer);
    return url.toString();
  }

  /**
   * Step 3: with the browser's session (or none) decide: send to the login page, ask consent, or issue a
   * code. `consent` is the user's answer on the consent page (third-party clients only).
   */
  async decide(req: AuthorizationRequest, browser: BrowserIdentity | null, consent: 'allow' | 'deny' | null, meta: RequestMeta): Promise<AuthorizeOutcome> {
    const tenantSlug = await this.d.tenants.slugOf(req.client.tenantId);
    const session = browser ? await this.activeSession(browser.auth.claims) : null;
    const user = session && browser ? await this.d.users.findById(session.tenantId, browser.auth.claims.sub) : null;
    const nowSec = Math.floor(this.d.clock.now() / 1000);
    let fresh = false;
    if (session && user && !user.disabledAt && session.tenantId === req.client.tenantId) {
      const authTime = Math.floor(session.createdAt.getTime() / 1000);
      fresh = true;
      if (req.maxAgeSec !== undefined && nowSec - authTime > req.maxAgeSec) fresh = false;
      if (req.authAfterSec !== undefined && authTime < req.authAfterSec) fresh = false;
      if (req.prompt.has('login')) fresh = false;
    }
    if (!fresh || !session || !user) {
      if (req.prompt.has('none')) throw oauthError('login_required', 'The user is not signed in.');
      return { kind: 'login', returnTo: this.loginReturnPath(req), tenant: tenantSlug, loginHint: req.loginHint };
    }
    if (!req.client.firstParty) {
      if (consent === 'deny') throw oauthError('access_denied', 'The user denied the request.');
      if (consent !== 'allow') {
        if (req.prompt.has('none')) throw oauthError('consent_required', 'The client needs the user\'s consent.');
        return { kind: 'consent', request: req, user };
      }
    }
    const code = randomToken(32);
    const at = this.now();
    await this.d.codes.create({
      codeHash: sha256Hex(code),
      clientId: req.client.id,
      userId: user.id,
      tenantId: user.tenantId,
      redirectUri: req.redirectUri,
      codeChallenge: req.codeChallenge,
      scope: req.scope,
      nonce: req.nonce ?? null,
      authTime: session.createdAt,
      browserSessionId: session.id,
      createdAt: at,
      expiresAt: new Date(at.getTime() + CODE_TTL_MS),
    });
    // Opportunistic cleanup of long-expired codes (indexed; a replayed code is still detected for an hour).
    await this.d.codes.purgeExpiredBefore(new Date(at.getTime() - 3_600_000));
    await this.d.audit.record({ action: 'oauth2.authorize', actor: user.id, tenant: tenantSlug, target: req.client.id, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent, details: { scope: req.scope } });
    const url = new URL(req.redirectUri);
    url.searchParams.set('code', code);
    if (req.state !== undefined) url.searchParams.set('state', req.state);
    url.searchParams.set('iss', this.d.issuer);
    return { kind: 'redirect', location: url.toString() };
  }

  /** The authorization request again, minus `prompt=login` (now being satisfied) plus the login deadline. */
  private loginReturnPath(req: AuthorizationRequest): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(req.params)) if (k !== 'prompt' && k !== 'auth_after' && k !== 'consent' && k !== 'csrf_token') q.set(k, v);
    const prompt = [...req.prompt].filter((p) => p !== 'login');
    if (prompt.length) q.set('prompt', prompt.join(' '));
    if (req.prompt.has('login')) q.set('auth_after', String(Math.floor(this.d.clock.now() / 1000)));
    else if (req.authAfterSec !== undefined) q.set('auth_after', String(req.authAfterSec));
    return `/oauth2/authorize?${q.toString()}`;
  }

  private async activeSession(claims: VerifiedToken) {
    const session = await this.d.sessions.findByIdAnyTenant(claims.sid);
    const at = this.now();
    if (!session || session.revokedAt || session.idleExpiresAt <= at || session.absoluteExpiresAt <= at || session.userId !== claims.sub) return null;
    return session;
  }

  // --- token endpoint -------------------------------------------------------------------------

  async token(form: Readonly<Record<string, string>>, caller: AuthenticatedClient, meta: RequestMeta): Promise<TokenResponse> {
    const grant = form.grant_type;
    if (!grant) throw oauthError('invalid_request', 'The grant_type parameter is missing.');
    if (grant !== 'authorization_code' && grant !== 'refresh_token' && grant !== 'client_credentials')
      throw oauthError('unsupported_grant_type', `Unsupported grant_type: ${grant.slice(0, 64)}.`);
    if (!caller.client.grantTypes.includes(grant)) throw oauthError('unauthorized_client', `The client may not use the ${grant} grant.`);
    if (grant === 'authorization_code') return this.exchangeCode(form, caller.client, meta);
    if (grant === 'refresh_token') return this.refreshGrant(form, caller.client, meta);
    return this.clientCredentials(form, caller, meta);
  }

  private async exchangeCode(form: Readonly<Record<string, string>>, client: OAuthClient, meta: RequestMeta): Promise<TokenResponse> {
    const { code, redirect_uri: redirectUri, code_verifier: verifier } = form;
    if (!code) throw oauthError('invalid_request', 'The code parameter is missing.');
    if (!redirectUri) throw oauthError('invalid_request', 'The redirect_uri parameter is missing.');
    if (!verifier) throw oauthError('invalid_request', 'PKCE code_verifier is required.');
    if (!isCodeVerifier(verifier)) throw oauthError('invalid_request', 'code_verifier must be 43-128 unreserved characters.');
    const codeHash = sha256Hex(code);
    const record = code.length <= 128 ? await this.d.codes.find(codeHash) : null;
    const invalid = () => oauthError('invalid_grant', 'The authorization code is invalid, expired or already used.');
    if (!record || record.clientId !== client.id) throw invalid();
    const at = this.now();
    if (!(await this.d.codes.spend(codeHash, at))) {
      // A replayed code: revoke what it produced (RFC 6749 §4.1.2, RFC 9700 §4.5.3).
      const issued = (await this.d.codes.find(codeHash))?.issuedSessionId;
      if (issued) await this.d.auth.revokeSession(record.tenantId, issued, 'reuse_detected', `oauth2:${client.id}`, meta);
      await this.d.audit.record({ action: 'oauth2.code.reused', actor: `oauth2:${client.id}`, target: record.userId, outcome: 'failure', ip: meta.ip, userAgent: meta.userAgent });
      throw invalid();
    }
    // The code is spent from here on whatever else is wrong: a failed PKCE attempt must not leave it usable.
    if (record.expiresAt <= at) throw invalid();
    if (record.redirectUri !== redirectUri) throw oauthError('invalid_grant', 'redirect_uri does not match the authorization request.');
    if (!verifyS256(verifier, record.codeChallenge)) throw oauthError('invalid_grant', 'PKCE verification failed.');
    const user = await this.d.users.findById(record.tenantId, record.userId);
    const tenant = await this.d.tenants.findById(record.tenantId);
    if (!user || user.disabledAt || !tenant || tenant.disabledAt) throw invalid();
    const started = await this.d.auth.startSession(user, meta, client.id);
    await this.d.codes.setIssuedSession(codeHash, started.session.id);
    await this.d.codes.createGrant({ sessionId: started.session.id, clientId: client.id, scope: record.scope, authTime: record.authTime }, at);
    await this.d.audit.record({ action: 'oauth2.token.issued', actor: user.id, tenant: tenant.slug, target: client.id, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent, details: { grant: 'authorization_code', scope: record.scope, session: started.session.id } });
    return this.tokenResponse({ user, client, sid: started.session.id, scope: record.scope, authTime: record.authTime, nonce: record.nonce, refresh: started.refresh_token });
  }

  private async refreshGrant(form: Readonly<Record<string, string>>, client: OAuthClient, meta: RequestMeta): Promise<TokenResponse> {
    const token = form.refresh_token;
    if (!token) throw oauthError('invalid_request', 'The refresh_token parameter is missing.');
    let rotated: Awaited<ReturnType<AuthService['refresh']>>;
    try {
      // Same rotation and reuse detection as /auth/refresh; the token must belong to this client.
      rotated = await this.d.auth.refresh(token, meta, client.id);
    } catch (err) {
      if (isAppError(err) && err.status === 401) throw oauthError('invalid_grant', 'The refresh token is invalid, expired or revoked.');
      throw err;
    }
    const grant = await this.d.codes.findGrant(rotated.session.id);
    if (!grant || grant.clientId !== client.id) throw oauthError('invalid_grant', 'The refresh token is invalid, expired or revoked.');
    let scope = grant.scope;
    if (form.scope !== undefined) {
      // RFC 6749 §6: a narrower scope may be requested, never a wider one.
      const requested = parseScope(form.scope);
      if (requested === null || requested.some((s) => !hasScope(grant.scope, s))) throw oauthError('invalid_scope', 'The requested scope exceeds the original grant.');
      scope = requested.join(' ');
    }
    return this.tokenResponse({ user: rotated.user, client, sid: rotated.session.id, scope, authTime: grant.authTime, nonce: null, refresh: rotated.refresh_token, isRefresh: true });
  }

  private async clientCredentials(form: Readonly<Record<string, string>>, caller: AuthenticatedClient, meta: RequestMeta): Promise<TokenResponse> {
    const client = caller.client;
    if (caller.method === 'none') throw oauthError('unauthorized_client', 'client_credentials needs a confidential client.');
    const requested = parseScope(form.scope);
    if (requested === null) throw oauthError('invalid_scope', 'The scope parameter is malformed.');
    // Service tokens carry API scopes only: no user, so no OIDC scopes.
    const allowed = client.scopes.filter((s) => s !== 'openid' && s !== 'offline_access' && s !== 'profile' && s !== 'email');
    const bad = requested.filter((s) => !allowed.includes(s));
    if (bad.length) throw oauthError('invalid_scope', `Scope not allowed for this client: ${bad.join(' ')}.`);
    const scope = (requested.length ? requested : allowed).join(' ');
    const tid = await this.d.tenants.slugOf(client.tenantId);
    const access = await this.d.tokens.issueAccessToken(
      { sub: client.id, sid: `${CLIENT_CREDENTIALS_SID}${randomUUID()}`, tid, roles: [], email: '' },
      { scope, client_id: client.id },
    );
    await this.d.audit.record({ action: 'oauth2.token.issued', actor: `oauth2:${client.id}`, tenant: tid, target: client.id, outcome: 'success', ip: meta.ip, userAgent: meta.userAgent, details: { grant: 'client_credentials', scope } });
    return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn, scope };
  }

  private async tokenResponse(input: {
    user: User;
    client: OAuthClient;
    sid: string;
    scope: string;
    authTime: Date;
    nonce: string | null;
    refresh: string;
    isRefresh?: boolean;
  }): Promise<TokenResponse> {
    const { user, client, sid, scope } = input;
    // RFC 9068-style claims on top of the proxy's access-token claims, so the same token works at the proxy.
    const access = await this.d.tokens.issueAccessToken({ sub: user.id, sid, tid: user.tenantSlug, roles: user.roles, email: user.email }, { scope, client_id: client.id });
    const out: TokenResponse = { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn, scope };
    // Refresh tokens only with offline_access (OIDC Core §11); otherwise the session ends with its tokens.
    if (hasScope(scope, 'offline_access')) out.refresh_token = input.refresh;
    if (hasScope(scope, 'openid')) out.id_token = await this.idToken({ user, client, sid, scope, authTime: input.authTime, nonce: input.isRefresh ? null : input.nonce });
    return out;
  }

  /** OIDC Core §2: iss, sub, aud, exp, iat, auth_time, nonce, sid, azp; email/profile claims by scope. */
  async idToken(input: { user: User; client: OAuthClient; sid: string; scope: string; authTime: Date; nonce: string | null }): Promise<string> {
    const payload: Record<string, unknown> = {
      sub: input.user.id,
      auth_time: Math.floor(input.authTime.getTime() / 1000),
      sid: input.sid,
      azp: input.client.id,
      ...userClaims(input.user, input.scope),
    };
    if (input.nonce !== null) payload.nonce = input.nonce;
    return this.d.tokens.signJwt(payload, { typ: 'JWT', ttlSeconds: this.d.idTokenTtlSeconds, audience: input.client.id, alg: input.client.idTokenAlg });
  }

  // --- userinfo, revocation, introspection ----------------------------------------------------

  /** OIDC Core §5.3: claims of the token's user, by the token's scope. The token must carry `openid`. */
  async userinfo(ctx: AuthContext): Promise<Record<string, unknown>> {
    const scope = ctx.claims.scope;
    if (scope === undefined || !hasScope(scope, 'openid') || ctx.claims.sid.startsWith(CLIENT_CREDENTIALS_SID))
      throw new OAuthError('invalid_request', 'The access token was not granted the openid scope.', 403, {
        'www-authenticate': 'Bearer realm="authgate", error="insufficient_scope", scope="openid"',
      });
    const tenant = await this.d.tenants.findBySlug(ctx.claims.tid);
    const session = await this.activeSession(ctx.claims);
    const user = tenant && session ? await this.d.users.findById(tenant.id, ctx.claims.sub) : null;
    if (!user || user.disabledAt) throw new OAuthError('invalid_request', 'The access token is no longer valid.', 401, { 'www-authenticate': 'Bearer realm="authgate", error="invalid_token"' });
    return { sub: user.id, ...userClaims(user, scope) };
  }

  /** RFC 7009: refresh token → its session; access token → its session. Unknown or foreign tokens: no-op. */
  async revoke(token: string, hint: string | undefined, client: OAuthClient, meta: RequestMeta): Promise<void> {
    if (!token || token.length > 8192) return;
    const actor = `oauth2:${client.id}`;
    if (hint !== 'access_token') {
      const record = await this.d.sessions.findRefreshToken(sha256Hex(token));
      if (record) {
        const session = await this.d.sessions.findByIdAnyTenant(record.sessionId);
        if (session && session.clientId === client.id) await this.d.auth.revokeSession(session.tenantId, session.id, 'logout', actor, meta);
        return;
      }
    }
    const claims = await this.d.tokens.verifyAccessToken(token).catch(() => null);
    if (!claims || claims.client_id !== client.id) return;
    if (claims.sid.startsWith(CLIENT_CREDENTIALS_SID)) {
      // No session row: the revocation is announced on the bus only (best effort without Redis, see docs).
      await this.d.revocation.publish([{ kind: 'session', id: claims.sid, at: this.d.clock.now(), reason: 'logout' }]);
      return;
    }
    const tenant = await this.d.tenants.findBySlug(claims.tid);
    if (tenant) await this.d.auth.revokeSession(tenant.id, claims.sid, 'logout', actor, meta);
  }

  /** RFC 7662 for confidential clients: `{active:false}` for anything invalid, expired, revoked or foreign. */
  async introspect(token: string, hint: string | undefined, client: OAuthClient): Promise<Record<string, unknown>> {
    const inactive = { active: false };
    if (!token || token.length > 8192) return inactive;
    if (hint !== 'refresh_token' && token.split('.').length === 3) {
      const claims = await this.d.tokens.verifyAccessToken(token).catch(() => null);
      if (claims) {
        if (this.d.revocation.isRevoked(claims.sid, claims.sub, claims.tid, claims.iat)) return inactive;
        if (!claims.sid.startsWith(CLIENT_CREDENTIALS_SID) && !(await this.activeSession(claims))) return inactive;
        return {
          active: true,
          token_type: 'Bearer',
          scope: claims.scope ?? '',
          client_id: claims.client_id ?? null,
          sub: claims.sub,
          ...(claims.email ? { username: claims.email } : {}),
          aud: claims.aud,
          iss: claims.iss,
          exp: claims.exp,
          iat: claims.iat,
          jti: claims.jti,
          sid: claims.sid,
          tenant: claims.tid,
        };
      }
    }
    const record = await this.d.sessions.findRefreshToken(sha256Hex(token));
    if (!record || record.spentAt) return inactive;
    const session = await this.d.sessions.findByIdAnyTenant(record.sessionId);
    const at = this.now();
    // Refresh tokens are disclosed only to the client they were issued to.
    if (!session || session.clientId !== client.id || session.revokedAt || session.idleExpiresAt <= at || session.absoluteExpiresAt <= at) return inactive;
    const grant = await this.d.codes.findGrant(session.id);
    return {
      active: true,
      token_type: 'refresh_token',
      scope: grant?.scope ?? '',
      client_id: client.id,
      sub: session.userId,
      exp: Math.floor(session.idleExpiresAt.getTime() / 1000),
      iat: Math.floor(record.createdAt.getTime() / 1000),
      iss: this.d.issuer,
      sid: session.id,
    };
  }
}

/** Standard claims released by scope (OIDC Core §5.4). */
export function userClaims(user: User, scope: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (hasScope(scope, 'email')) {
    out.email = user.email;
    out.email_verified = user.emailVerifiedAt !== null;
  }
  if (hasScope(scope, 'profile')) {
    out.preferred_username = user.username;
    out.name = user.username;
    out.updated_at = Math.floor(user.updatedAt.getTime() / 1000);
  }
  return out;
}
