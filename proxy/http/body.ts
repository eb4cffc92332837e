// Bounded JSON body reader: content-type check, size limit while streaming, UTF-8, depth bound,
// duplicate keys and NUL refused, malformed JSON → 400 — never anything but an AppError.
// Also parses application/x-www-form-urlencoded for the OAuth2 endpoints.
import type { IncomingMessage } from 'node:http';
import { AppError, Errors } from '../../core/errors.js';

export const MAX_JSON_DEPTH = 32;

export async function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    throw Errors.payloadTooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > limit) {
        req.resume();
        throw Errors.payloadTooLarge(limit);
      }
      chunks.push(buf);
    }
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err && (err as { code: string }).code === 'ERR_PAYLOAD_TOO_LARGE') throw err;
    throw Errors.badRequest('The request body could not be read.');
  }
  return Buffer.concat(chunks, size);
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function depthExceeded(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** The first key that occurs twice in one object of valid JSON text, or null. Also bounds depth. */
export function findDuplicateKey(text: string, maxDepth = MAX_JSON_DEPTH): string | null {
  // One frame per open object/array: objects keep the keys seen and whether a key comes next.
  const stack: Array<{ keys: Set<string>; expectKey: boolean } | null> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      if (stack.length >= maxDepth) throw Errors.badRequest(`JSON nesting deeper than ${maxDepth} is refused.`, 'ERR_JSON_TOO_DEEP');
      stack.push(c === '{' ? { keys: new Set(), expectKey: true } : null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = true;
    }
  }
  return null;
}

/** Reads a JSON object body (duplicate keys refused). An empty body is `{}` only when `allowEmpty`. */
export async function readJson(req: IncomingMessage, limit: number, allowEmpty = false): Promise<Record<string, unknown>> {
  const type = mediaType(req);
  const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0' || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) {
    if (allowEmpty) return {};
    throw Errors.validation([{ field: 'body', message: 'is required' }], 'A JSON body is required.');
  }
  if (type !== 'application/json' && !type.endsWith('+json')) {
    req.resume();
    throw Errors.unsupportedMediaType();
  }
  const raw = await readRaw(req, limit);
  if (raw.length === 0) {
    if (allowEmpty) return {};
    throw Errors.validation([{ field: 'body', message: 'is required' }], 'A JSON body is required.');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw Errors.badRequest('The request body is not valid UTF-8.', 'ERR_BAD_ENCODING');
  }
  if (depthExceeded(text, MAX_JSON_DEPTH)) throw Errors.badRequest(`JSON nesting deeper than ${MAX_JSON_DEPTH} is refused.`, 'ERR_JSON_TOO_DEEP');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw Errors.malformedJson();
  }
  // JSON.parse silently keeps the last of two equal keys, so `{"email":"victim@x","email":"attacker@y"}`
  // means different things to different parsers — the shape of GitLab CVE-2023-7028. Refuse it everywhere.
  const duplicate = findDuplicateKey(text);
  if (duplicate !== null)
    throw new AppError('ERR_DUPLICATE_KEY', 400, 'Bad request', {
      detail: 'A key appears more than once in the JSON body.',
      errors: [{ field: duplicate.slice(0, 64), message: 'appears more than once' }],
    });
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw Errors.validation([{ field: 'body', message: 'must be a JSON object' }]);
  if (hasNul(value, 0)) throw Errors.badRequest('Strings must not contain NUL characters.', 'ERR_BAD_ENCODING');
  return value as Record<string, unknown>;
}

/**
 * NUL (`\u0000`) is never meaningful input here and breaks what lies below: SQLite truncated the inlined
 * statement at it (a 500), PostgreSQL refuses it in text (22021), C libraries stop reading at it (issue 10).
 * The value is already depth-bounded by MAX_JSON_DEPTH.
 */
function hasNul(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (value === null || typeof value !== 'object' || depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) return value.some((v) => hasNul(v, depth + 1));
  for (const [k, v] of Object.entries(value)) if (k.includes('\0') || hasNul(v, depth + 1)) return true;
  return false;
}

/** Reads application/x-www-form-urlencoded (OAuth2 endpoints, RFC 6749 §4.1.3); repeated keys → 400. */
export async function readForm(req: IncomingMessage, limit: number): Promise<Record<string, string>> {
  const type = mediaType(req);
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    throw Errors.unsupportedMediaType();
  }
  const raw = await readRaw(req, limit);
  const params = new URLSearchParams(raw.toString('utf8'));
  const out: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k.includes('\0') || v.includes('\0')) throw Errors.badRequest('Parameters must not contain NUL characters.', 'ERR_BAD_ENCODING');
    if (k in out) throw Errors.badRequest(`Parameter "${k}" is repeated.`, 'ERR_DUPLICATE_PARAMETER');
    out[k] = v;
  }
  return out;
}
