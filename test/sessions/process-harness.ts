// Real OS processes for the revocation tests and bench/revocation-latency.ts: `node bin/authgate.js serve`
// configured through environment variables, and the revoker fixture (authctl's path in its own process).
// Both run the built dist/ (npx tsc -p tsconfig.build.json first).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { DEFAULT_TEST_POLICY, http } from '../helpers/app.js';
import { freePort } from './session-harness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface ProcessEnv {
  databaseUrl: string;
  redisUrl?: string;
  channel?: string;
}

/** Environment for a child: config only through env vars, nothing from the parent but PATH/HOME. */
export function childEnv(e: ProcessEnv, extra: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-proc-'));
  const policyFile = join(dir, 'policies.yaml');
  writeFileSync(policyFile, DEFAULT_TEST_POLICY('http://127.0.0.1:9'));
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    DATABASE_URL: e.databaseUrl,
    POLICIES_FILE: policyFile,
    PUBLIC_URL: 'http://authgate.test',
    HOST: '127.0.0.1',
    BCRYPT_COST: '4',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    AUTHGATE_MAIL_OUTBOX_DIR: join(dir, 'outbox'),
    ...(e.redisUrl ? { REDIS_URL: e.redisUrl } : {}),
    ...(e.channel ? { AUTHGATE_REDIS_REVOCATION_CHANNEL: e.channel } : {}),
    ...extra,
  };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Spawns `node bin/authgate.js serve` and waits until /healthz answers. */
export async function spawnAuthgate(e: ProcessEnv): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bin/authgate.js'), 'serve'], {
    cwd: ROOT,
    env: childEnv(e, { PORT: String(port) }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`authgate exited ${child.exitCode}: ${stderr}`);
    try {
      const res = await request(`${url}/healthz`);
      await res.body.dump();
      if (res.statusCode === 200) return { url, child, stop: () => stopChild(child) };
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  await stopChild(child);
  throw new Error(`authgate did not start: ${stderr}`);
}

export interface Revoker {
  /** Revokes in the other process; resolves with its wall-clock start time (ms) of the revoke call. */
  revoke(sid: string): Promise<{ startedAt: number; doneAt: number; revoked: boolean }>;
  stop(): Promise<void>;
}

export async function spawnRevoker(e: ProcessEnv): Promise<Revoker> {
  const child = spawn(process.execPath, [join(ROOT, 'test/sessions/fixtures/revoker.mjs')], {
    cwd: ROOT,
    env: childEnv(e),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`revoker exited: ${stderr}`);
    return JSON.parse(String(value)) as Record<string, unknown>;
  };
  if ((await next()).ready !== true) throw new Error('revoker not ready');
  return {
    async revoke(sid) {
      child.stdin!.write(`${sid}\n`);
      const r = await next();
      return { startedAt: Number(r.startedAt), doneAt: Number(r.doneAt), revoked: r.revoked === true };
    },
    async stop() {
      child.stdin!.end();
      await stopChild(child);
    },
  };
}

/**
 * Polls GET /auth/me every `everyMs` until 401 ERR_TOKEN_REVOKED; returns the wall-clock time (ms) of the
 * first rejection, or null after `deadlineMs` from `sinceWall`.
 */
export async function firstRejectionAt(base: string, token: string, sinceWall: number, deadlineMs: number, everyMs = 20): Promise<number | null> {
  for (;;) {
    const res = await http(base, 'GET', '/auth/me', { token });
    const now = Date.now();
    if (res.status === 401 && res.body?.code === 'ERR_TOKEN_REVOKED') return now;
    if (now - sinceWall > deadlineMs) return null;
    await sleep(everyMs);
  }
}

export const stats = (xs: readonly number[]): { median: number; worst: number; n: number } => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, worst: s[s.length - 1] ?? NaN, n: s.length };
};
