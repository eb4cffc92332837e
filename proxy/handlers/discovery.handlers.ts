// OpenID Connect Discovery 1.0 / RFC 8414 metadata at /.well-known/openid-configuration. The issuer is
// config.tokens.issuer (PUBLIC_URL unless JWT_ISSUER is set) and endpoint URLs derive from PUBLIC_URL,
// never from the request's Host header. The JWKS itself is served by ops.handlers.ts.
import type { Config } from '../../config/config.schema.js';
import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';

export function discoveryDocument(config: Config): Record<string, unknown> {
  const base = config.server.public_url;
  return {
    issuer: config.tokens.issuer,
    authorization_endpoint: `${base}/oauth2/authorize`,
    token_endpoint: `${base}/oauth2/token`,
    userinfo_endpoint: `${base}/oauth2/userinfo`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/oauth2/revoke`,
    introspection_endpoint: `${base}/oauth2/introspect`,
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['EdDSA', 'RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'sid', 'azp', 'email', 'email_verified', 'preferred_username', 'name', 'updated_at'],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    // RFC 9207: authorization responses carry `iss` (mix-up attack defence).
    authorization_response_iss_parameter_supported: true,
  };
}

export function registerDiscoveryRoutes(router: Router, config: Config): void {
  const body = discoveryDocument(config);
  router.add('GET', '/.well-known/openid-configuration', async (ctx) => {
    sendJson(ctx.res, 200, body, { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' });
  });
}
