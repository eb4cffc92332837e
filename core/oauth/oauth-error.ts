// OAuth2 protocol errors. They are AppErrors (stable code ERR_OAUTH_*, status) that also carry the RFC 6749
// `error` value: the token, revocation and introspection endpoints answer them as RFC 6749 §5.2 JSON
// `{error, error_description}` (the OAuth contract, not problem+json); the authorization endpoint
// redirects them to the client (§4.1.2.1) once the redirect_uri is trusted.
import { AppError } from '../errors.js';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  | 'server_error'
  | 'temporarily_unavailable';

export class OAuthError extends AppError {
  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    status = error === 'invalid_client' ? 401 : 400,
    headers?: Record<string, string>,
  ) {
    super(`ERR_OAUTH_${error.toUpperCase()}`, status, 'OAuth error', { detail: description, ...(headers ? { headers } : {}) });
    this.name = 'OAuthError';
  }
}

export const isOAuthError = (err: unknown): err is OAuthError => err instanceof OAuthError;

export const oauthError = (error: OAuthErrorCode, description: string, status?: number): OAuthError => new OAuthError(error, description, status);
