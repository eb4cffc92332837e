// Shared pieces of the session/revocation tests: an own redis-server that a test can stop and restart,
// free ports, waiting for a revocation to be enforced (with its latency) and a bus's subscription state.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { http } from '../helpers/app.js';
import { OwnRedis } from '../helpers/processes.js';

export { freePort, OwnRedis } from '../helpers/processes.js';
import type { RevocationBus } from '../../core/revocation/revocation-bus.js';

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
  const own = await OwnRedis.create();
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
