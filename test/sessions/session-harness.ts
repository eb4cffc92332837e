// Shared pieces of the session/revocation tests: an own redis-server that a test can stop and restart,
// free ports, waiting for a revocation to be enforced (with its latency) and a bus's subscription state.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { http } from '../helpers/app.js';
import type { RevocationBus } from '../../core/revocation/revocation-bus.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A redis-server of our own (no persistence), so a test can stop and restart it on the same port. */
export class OwnRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<OwnRedis> {
    const r = new OwnRedis(await freePort());
    await r.start();
    return r;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.child = child;
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await sleep(25);
      }
    }
    throw new Error('redis-server did not start');
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
}

export const redisServerAvailable = async (): Promise<boolean> =>
  new Promise((resolve) => {
    const c = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    c.once('error', () => resolve(false));
    c.once('exit', (code) => resolve(code === 0));
  });

/** The Redis to share between two authgate instances: TEST_REDIS_URL when set, else our own server. */
export async function sharedRedis(): Promise<{ url: string; close(): Promise<void> } | null> {
  if (process.env.TEST_REDIS_URL) return { url: process.env.TEST_REDIS_URL, close: async () => undefined };
  if (!(await redisServerAvailable())) return null;
  const own = await OwnRedis.start();
  return { url: own.url, close: () => own.stop() };
}

/** A channel no other test (or installation on the same Redis) uses. */
export const uniqueChannel = (): string => `authgate-test:${process.pid}:${Math.random().toString(36).slice(2, 10)}:revocations`;

export interface Enforcement {
  /** ms from `since` until the token was first rejected; null when not within the deadline. */
  latencyMs: number | null;
  lastStatus: number;
  lastCode: string | undefined;
}

/**
 * Polls GET /auth/me with the token every 20 ms until it answers 401 ERR_TOKEN_REVOKED or the deadline
 * passes. `since` is when the revocation was made (performance.now()).
 */
export async function waitForRejection(base: string, token: string, since: number, deadlineMs: number): Promise<Enforcement> {
  let lastStatus = 0;
  let lastCode: string | undefined;
  for (;;) {
    const res = await http(base, 'GET', '/auth/me', { token });
    lastStatus = res.status;
    lastCode = res.body?.code;
    const elapsed = performance.now() - since;
    if (res.status === 401 && lastCode === 'ERR_TOKEN_REVOKED') return { latencyMs: Math.round(elapsed), lastStatus, lastCode };
    if (elapsed > deadlineMs) return { latencyMs: null, lastStatus, lastCode };
    await sleep(20);
  }
}

export async function waitFor(condition: () => boolean, deadlineMs: number): Promise<boolean> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > deadlineMs) return false;
    await sleep(10);
  }
  return true;
}

/** True when the bus is a Redis bus with a live subscription. */
export const busHealthy = (bus: RevocationBus): boolean => (bus as RevocationBus & { healthy?: boolean }).healthy === true;
