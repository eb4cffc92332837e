// Makes audit `details` safe to store and hash: secret-looking keys are dropped, token-looking values
// redacted, personal fields (email, username…) split off into the erasable part, values made JSON-plain.

/** Any key containing one of these (case-insensitive, `-` → `_`) is dropped with its value. */
const SECRET_KEY_PARTS = ['password', 'passwd', 'secret', 'token', 'code', 'link', 'authorization', 'cookie', 'otp', 'credential', 'private', 'jwk', 'api_key', 'apikey'];
/** Personal data: stored outside the hashed row so a GDPR erase does not break the chain. */
const PERSONAL_KEYS = new Set(['email', 'username', 'ip', 'user_agent', 'useragent', 'phone', 'display_name', 'full_name']);

// A JWT/JWS (three base64url parts starting with `eyJ`) or an opaque bearer-like string: never stored
// even under an innocent key. Opaque refresh tokens are 43 base64url chars (32 random bytes).
const JWT_LIKE = /eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/;
const URL_WITH_SECRET = /[?&#](?:token|code|key|sig|signature|secret)=/i;

const MAX_DEPTH = 5;
const MAX_STRING = 1024;
const MAX_ARRAY = 200;
export const REDACTED = '[REDACTED]';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface SanitisedDetails {
  /** Hashed and kept forever (until retention). */
  details: JsonObject;
  /** Personal fields moved out of details (erasable); null when there were none. */
  personal: JsonObject | null;
}

const normKey = (key: string): string => key.toLowerCase().replace(/-/g, '_');

export function isSecretKey(key: string): boolean {
  const k = normKey(key);
  return SECRET_KEY_PARTS.some((part) => k.includes(part));
}

function plainValue(value: unknown, depth: number): JsonValue | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      if (JWT_LIKE.test(value) || URL_WITH_SECRET.test(value)) return REDACTED;
      return value.length > MAX_STRING ? value.slice(0, MAX_STRING) : value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined; // functions, symbols, undefined: not data
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= MAX_DEPTH) return '[TRUNCATED]';
  if (Array.isArray(value)) {
    const out: JsonValue[] = [];
    for (const item of value.slice(0, MAX_ARRAY)) {
      const v = plainValue(item, depth + 1);
      out.push(v === undefined ? null : v);
    }
    return out;
  }
  return plainObject(value as Record<string, unknown>, depth + 1, null);
}

function plainObject(input: Record<string, unknown>, depth: number, personal: JsonObject | null): JsonObject {
  const out: JsonObject = {};
  for (const [key, raw] of Object.entries(input)) {
    if (isSecretKey(key)) continue;
    const v = plainValue(raw, depth);
    if (v === undefined) continue;
    if (personal && PERSONAL_KEYS.has(normKey(key))) personal[key] = v;
    else out[key] = v;
  }
  return out;
}

/** Top-level personal keys move to `personal`; secret keys are dropped at every depth. */
export function sanitiseDetails(details: Record<string, unknown> | undefined): SanitisedDetails {
  if (!details) return { details: {}, personal: null };
  const personal: JsonObject = {};
  const clean = plainObject(details, 0, personal);
  return { details: clean, personal: Object.keys(personal).length ? personal : null };
}

/** Free-text fields outside details (target, actor) must not smuggle a token either. */
export function sanitiseText(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (JWT_LIKE.test(value) || URL_WITH_SECRET.test(value)) return REDACTED;
  return value.slice(0, max);
}
