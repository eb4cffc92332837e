// Access-token issuing and verification (SPEC §4): EdDSA, typ at+jwt, kid; verification pinned to
// the configured algorithms, issuer, audience and typ, with exp required and ≤ 5 s clock tolerance.
import { randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { nowSeconds, type Clock } from '../clock.js';
import { AppError, Errors } from '../errors.js';
import type { KeyStore, SigningAlg } from './key-store.js';

export interface AccessClaims {
  sub: string;
  sid: string;
  tid: string;
  roles: string[];
  email: string;
}

export interface VerifiedToken extends AccessClaims {
  iss: string;
  aud: string | string[];
  jti: string;
  iat: number;
  exp: number;
  /** Present on client_credentials tokens. */
  scope?: string;
  client_id?: string;
}

export interface TokenServiceOptions {
  issuer: string;
  audience: string;
  accessTtlMs: number;
  clockToleranceMs: number;
  algorithms?: readonly SigningAlg[];
}

const ACCESS_TYP = 'at+jwt';

export class TokenService {
  private readonly algorithms: SigningAlg[];
  private readonly toleranceSec: number;

  constructor(
    private readonly keys: KeyStore,
    private readonly clock: Clock,
    private readonly options: TokenServiceOptions,
  ) {
    this.algorithms = [...(options.algorithms ?? ['EdDSA', 'RS256'])];
    this.toleranceSec = Math.min(5, Math.floor(options.clockToleranceMs / 1000));
  }

  get accessTtlSeconds(): number {
    return Math.floor(this.options.accessTtlMs / 1000);
  }

  async issueAccessToken(claims: AccessClaims, extra: Record<string, unknown> = {}): Promise<{ token: string; expiresIn: number; exp: number }> {
    const { kid, key, alg } = this.keys.signingKey('EdDSA');
    const iat = nowSeconds(this.clock);
    const exp = iat + this.accessTtlSeconds;
    const token = await new SignJWT({
      ...extra,
      tid: claims.tid,
      sid: claims.sid,
      roles: claims.roles,
      role: claims.roles[0] ?? null,
      email: claims.email,
    })
      .setProtectedHeader({ alg, kid, typ: ACCESS_TYP })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(claims.sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key);
    return { token, expiresIn: this.accessTtlSeconds, exp };
  }

  /** Signs an arbitrary short-lived JWT with the active key (ID tokens, upstream X-Auth-Token). */
  async signJwt(payload: JWTPayload, options: { typ: string; ttlSeconds: number; audience: string; alg?: SigningAlg }): Promise<string> {
    const { kid, key, alg } = this.keys.signingKey(options.alg ?? 'EdDSA');
    const iat = nowSeconds(this.clock);
    return new SignJWT(payload)
      .setProtectedHeader({ alg, kid, typ: options.typ })
      .setIssuer(this.options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + options.ttlSeconds)
      .sign(key);
  }

  /** Verifies an access token; every failure is an AppError with a stable code and status 401. */
  async verifyAccessToken(token: string): Promise<VerifiedToken> {
    let kid: string | undefined;
    let alg: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      kid = header.kid;
      alg = header.alg;
    } catch {
      throw Errors.invalidToken('ERR_TOKEN_MALFORMED', 'The access token is malformed.');
    }
    if (!alg || !this.algorithms.includes(alg as SigningAlg)) throw Errors.invalidToken('ERR_TOKEN_ALG', 'The token algorithm is not accepted.');
    const entry = kid ? this.keys.verificationKey(kid) : undefined;
    // Unknown kid → reject. Keys named by the token (jku, jwk, x5u) are never fetched or used.
    if (!entry) throw Errors.invalidToken('ERR_TOKEN_UNKNOWN_KEY', 'The token was signed by an unknown key.');
    if (entry.alg !== alg) throw Errors.invalidToken('ERR_TOKEN_ALG', 'The token algorithm does not match its key.');
    try {
      const { payload } = await jwtVerify(token, entry.key, {
        algorithms: [entry.alg],
        issuer: this.options.issuer,
        audience: this.options.audience,
        typ: ACCESS_TYP,
        requiredClaims: ['exp', 'iat', 'sub', 'sid'],
        clockTolerance: this.toleranceSec,
        currentDate: new Date(this.clock.now()),
      });
      // jose checks nbf but not a future iat; a token "issued" beyond the tolerance is not yet valid.
      if (typeof payload.iat === 'number' && payload.iat > nowSeconds(this.clock) + this.toleranceSec)
        throw Errors.invalidToken('ERR_TOKEN_CLAIMS', 'The token claim "iat" is in the future.');
      return toVerified(payload);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw mapJoseError(err);
    }
  }
}

function toVerified(payload: JWTPayload): VerifiedToken {
  const roles = Array.isArray(payload.roles) ? payload.roles.map(String) : [];
  return {
    sub: String(payload.sub),
    sid: String(payload.sid),
    tid: typeof payload.tid === 'string' ? payload.tid : 'default',
    roles,
    email: typeof payload.email === 'string' ? payload.email : '',
    iss: String(payload.iss),
    aud: payload.aud as string | string[],
    jti: String(payload.jti ?? ''),
    iat: Number(payload.iat),
    exp: Number(payload.exp),
    ...(typeof payload.scope === 'string' ? { scope: payload.scope } : {}),
    ...(typeof payload.client_id === 'string' ? { client_id: payload.client_id } : {}),
  };
}

function mapJoseError(err: unknown): AppError {
  if (err instanceof joseErrors.JWTExpired) return Errors.tokenExpired();
  if (err instanceof joseErrors.JWTClaimValidationFailed)
    return Errors.invalidToken('ERR_TOKEN_CLAIMS', `The token claim "${err.claim}" is invalid.`);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return Errors.invalidToken('ERR_TOKEN_SIGNATURE', 'The token signature is invalid.');
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return Errors.invalidToken('ERR_TOKEN_ALG', 'The token algorithm is not accepted.');
  return Errors.invalidToken('ERR_TOKEN_INVALID', 'The access token is invalid.');
}
