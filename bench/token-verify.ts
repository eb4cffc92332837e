// Micro-benchmark of what the proxy spends on a bearer token per request: a full EdDSA verification
// (jose jwtVerify, pinned alg/iss/aud/typ) vs the verified-token cache hit path (TokenCache.get + the
// in-memory revocation lookup that runs on hits too). Not a test; run with
//   node --import @tapjs/typescript/import bench/token-verify.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { createCore } from '../core/container.js';
import { createLogger } from '../core/logger.js';
import { TokenCache } from '../proxy/token-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'authgate-token-bench-'));
const config = loadConfig({
  env: {},
  overrides: {
    server: { public_url: 'http://authgate.bench' },
    database: { url: `sqlite:${join(dir, 'bench.sqlite')}` },
    security: { bcrypt_cost: 4 },
    mail: { outbox_dir: join(dir, 'outbox') },
    log: { level: 'silent' },
  },
});
const core = await createCore(config, { migrate: true, logger: createLogger('silent') });
try {
  const claims = { sub: 'user-1', sid: 'session-1', tid: 'default', roles: ['viewer'], email: 'bench@example.com' };
  const { token } = await core.tokens.issueAccessToken(claims);
  // Different tokens for the cache-miss run, so nothing is shortcut by identical input.
  const tokens = await Promise.all(Array.from({ length: 1000 }, (_, i) => core.tokens.issueAccessToken({ ...claims, sid: `session-${i}` }).then((t) => t.token)));

  async function timeAsync(label: string, iterations: number, fn: (i: number) => Promise<unknown>): Promise<void> {
    for (let i = 0; i < Math.min(iterations, 2000); i++) await fn(i); // warm-up
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await fn(i);
    const ns = Number(process.hrtime.bigint() - t0) / iterations;
    console.log(`${label.padEnd(52)} ${(ns / 1000).toFixed(2).padStart(8)} µs/op  ${Math.round(1e9 / ns).toLocaleString('en').padStart(12)} ops/s`);
  }
  function timeSync(label: string, iterations: number, fn: (i: number) => unknown): void {
    let sink = 0;
    for (let i = 0; i < 100_000; i++) sink += fn(i) === undefined ? 0 : 1;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += fn(i) === undefined ? 0 : 1;
    const ns = Number(process.hrtime.bigint() - t0) / iterations;
    console.log(`${label.padEnd(52)} ${(ns / 1000).toFixed(3).padStart(8)} µs/op  ${Math.round(1e9 / ns).toLocaleString('en').padStart(12)} ops/s  (${sink > 0 ? 'ok' : '?'})`);
  }

  console.log(`token verification (node ${process.version})`);
  await timeAsync('verifyAccessToken (EdDSA, no cache), same token', 20_000, () => core.tokens.verifyAccessToken(token));
  await timeAsync('verifyAccessToken (EdDSA, no cache), 1000 tokens', 20_000, (i) => core.tokens.verifyAccessToken(tokens[i % 1000] as string));

  const cache = new TokenCache(10_000, core.clock);
  cache.set(token, await core.tokens.verifyAccessToken(token));
  for (const t of tokens) cache.set(t, await core.tokens.verifyAccessToken(t));
  const revocation = core.revocation;
  timeSync('cache hit + revocation lookup, same token', 2_000_000, () => {
    const c = cache.get(token);
    return c !== undefined && !revocation.isRevoked(c.sid, c.sub, c.tid, c.iat) ? c : undefined;
  });
  timeSync('cache hit + revocation lookup, same token (again)', 2_000_000, () => {
    const c = cache.get(token);
    return c !== undefined && !revocation.isRevoked(c.sid, c.sub, c.tid, c.iat) ? c : undefined;
  });
  timeSync('cache hit + revocation lookup, 1000 tokens (LRU moves)', 2_000_000, (i) => {
    const c = cache.get(tokens[i % 1000] as string);
    return c !== undefined && !revocation.isRevoked(c.sid, c.sub, c.tid, c.iat) ? c : undefined;
  });
  const small = new TokenCache(100, core.clock);
  await timeAsync('cache miss → verify → set (cache of 100, 1000 tokens)', 20_000, async (i) => {
    const t = tokens[i % 1000] as string;
    if (small.get(t) !== undefined) return;
    small.set(t, await core.tokens.verifyAccessToken(t));
  });
} finally {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
}
