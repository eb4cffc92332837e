// A JSON object body reader that refuses duplicate keys. JSON.parse silently keeps the last of two
// equal keys, so `{"email":"victim@x","email":"attacker@y"}` means different things to different
// parsers — the shape of GitLab CVE-2023-7028 (a reset mail sent to an attacker-chosen second address).
// Keys are compared after unescaping, so "em\u0061il" duplicates "email".
import type { IncomingMessage } from 'node:http';
import { AppError, Errors } from '../../core/errors.js';
import { MAX_JSON_DEPTH, readRaw } from './body.js';

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

/**
 * Reads a JSON object body like readJson (media type, size limit, UTF-8, depth) and additionally
 * answers 400 ERR_DUPLICATE_KEY when any object in it repeats a key.
 */
export async function readStrictJson(req: IncomingMessage, limit: number, allowEmpty = false): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
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
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw Errors.malformedJson();
  }
  // Only valid JSON reaches the scanner, so its simple string/structure walk is exact.
  const duplicate = findDuplicateKey(text);
  if (duplicate !== null)
    throw new AppError('ERR_DUPLICATE_KEY', 400, 'Bad request', {
      detail: 'A key appears more than once in the JSON body.',
      errors: [{ field: duplicate.slice(0, 64), message: 'appears more than once' }],
    });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw Errors.validation([{ field: 'body', message: 'must be a JSON object' }]);
  return value as Record<string, unknown>;
}
