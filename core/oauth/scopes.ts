// Scope and PKCE helpers (pure): RFC 6749 §3.3 scope syntax, the OIDC scopes, RFC 7636 S256 checks.
import { createHash, timingSafeEqual } from 'node:crypto';

export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
export const DEFAULT_CLIENT_SCOPES: readonly string[] = OIDC_SCOPES;

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

export function isScopeToken(s: string): boolean {
  return SCOPE_TOKEN.test(s);
}

/** Splits a scope string into unique tokens, keeping order; null when a token is malformed. */
export function parseScope(raw: string | undefined): string[] | null {
  if (raw === undefined) return [];
  const out: string[] = [];
  for (const s of raw.split(' ')) {
    if (s === '') continue;
    if (!isScopeToken(s)) return null;
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

export const hasScope = (scope: string, name: string): boolean => scope.split(' ').includes(name);

// RFC 7636 §4.1/§4.2: verifier 43–128 unreserved characters; S256 challenge = 43 base64url characters.
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export const isCodeVerifier = (v: string): boolean => VERIFIER.test(v);
export const isS256Challenge = (c: string): boolean => CHALLENGE.test(c);

/** Constant-time check that BASE64URL(SHA256(verifier)) equals the stored challenge. */
export function verifyS256(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
