// Property test: the JSON body reader never throws anything but an AppError with a 4xx status,
// whatever bytes, content types and lengths arrive.
import t from 'tap';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { readForm, readJson } from '../../proxy/http/body.js';
import { AppError } from '../../core/errors.js';

export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 400);

function fakeRequest(body: Buffer, headers: Record<string, string>): IncomingMessage {
  const stream = Readable.from(body.length ? [body] : []) as unknown as IncomingMessage;
  (stream as { headers: Record<string, string> }).headers = headers;
  return stream;
}

const jsonish = fc.oneof(
  fc.json().map((s) => Buffer.from(s)),
  fc.string().map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
  fc.nat({ max: 200 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
  fc.nat({ max: 200 }).map((n) => Buffer.from('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
  fc.constant(Buffer.from('{"email":"a@example.com","email":"b@example.com"}')),
);
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', '', 'application/problem+json', 'APPLICATION/JSON', 'application/x-www-form-urlencoded');

t.test('readJson only ever resolves to an object or rejects with a 4xx AppError', async (t) => {
  let ok = 0;
  let rejected = 0;
  await fc.assert(
    fc.asyncProperty(jsonish, contentType, fc.boolean(), fc.boolean(), async (body, type, declareLength, allowEmpty) => {
      const headers: Record<string, string> = {};
      if (type) headers['content-type'] = type;
      if (declareLength) headers['content-length'] = String(body.length);
      else headers['transfer-encoding'] = 'chunked';
      try {
        const value = await readJson(fakeRequest(body, headers), 256, allowEmpty);
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
        ok++;
        return true;
      } catch (err) {
        rejected++;
        return err instanceof AppError && err.status >= 400 && err.status < 500;
      }
    }),
    { numRuns: FUZZ_RUNS },
  );
  t.ok(ok > 0, `some bodies parsed (${ok})`);
  t.ok(rejected > 0, `some bodies rejected (${rejected})`);
});

t.test('readForm rejects repeated parameters and wrong types with 4xx AppErrors only', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 300 }), contentType, async (text, type) => {
      try {
        await readForm(fakeRequest(Buffer.from(text), { 'content-type': type, 'content-length': String(Buffer.byteLength(text)) }), 256);
        return true;
      } catch (err) {
        return err instanceof AppError && err.status >= 400 && err.status < 500;
      }
    }),
    { numRuns: FUZZ_RUNS },
  );
  const dup = await readForm(fakeRequest(Buffer.from('a=1&a=2'), { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '7' }), 256).catch((e: unknown) => e);
  t.equal((dup as AppError).code, 'ERR_DUPLICATE_PARAMETER');
});

t.test('a 10 MB string is refused by size before parsing', async (t) => {
  const big = Buffer.from(`{"s":"${'x'.repeat(10 * 1024 * 1024)}"}`);
  const err = await readJson(fakeRequest(big, { 'content-type': 'application/json', 'content-length': String(big.length) }), 1024 * 1024).catch((e: unknown) => e);
  t.equal((err as AppError).status, 413);
  const chunked = await readJson(fakeRequest(big, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }), 1024 * 1024).catch((e: unknown) => e);
  t.equal((chunked as AppError).status, 413, 'also without a declared length');
});
