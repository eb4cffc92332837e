// Processes the fault-injection tests own and break on purpose: a private PostgreSQL cluster (initdb +
// pg_ctl on a free port in a temp directory, run as the `postgres` OS user when we are root) and a private
// redis-server. Each can be stopped and started again on the same port without touching shared services.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../helpers/processes.js';

export { freePort, OwnRedis } from '../helpers/processes.js';

/** Waits (bounded) until `probe` returns true; throws with `what` when it never does. */
export async function waitFor(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 20_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    await sleep(stepMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function pgBin(name: string): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const p = join(base, v, 'bin', name);
    if (existsSync(p)) return p;
  }
  return null;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

function postgresUid(): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Why a private cluster cannot be made here, or null when it can. */
export function ownPostgresUnavailable(): string | null {
  if (!pgBin('initdb') || !pgBin('pg_ctl')) return 'PostgreSQL server binaries (initdb, pg_ctl) not installed';
  if (isRoot() && !postgresUid()) return 'running as root without a postgres OS user for initdb';
  return null;
}

/**
 * Runs a PostgreSQL binary, as the postgres OS user when we are root (initdb refuses to run as root).
 * Asynchronous on purpose: the server under test shares this event loop and must keep serving meanwhile.
 */
function runPg(bin: string, args: string[]): Promise<{ status: number | null; out: string }> {
  const exe = pgBin(bin);
  if (!exe) throw new Error(`${bin} not found`);
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  return new Promise((resolve) => {
    const child = spawn(cmd, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', (err) => resolve({ status: -1, out: err.message }));
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

/** A private PostgreSQL cluster on 127.0.0.1:<free port>, data and socket in one temp directory. */
export class OwnPostgres {
  private running = false;
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** `postgres://postgres@127.0.0.1:<port>/<db>` */
  url(db = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  static async create(): Promise<OwnPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'authgate-pgfault-'));
    if (isRoot()) {
      const ids = postgresUid();
      if (ids) chownSync(dir, ids.uid, ids.gid);
    }
    const r = await runPg('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    if (r.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`initdb failed: ${r.out}`);
    }
    const own = new OwnPostgres(dir, await freePort());
    await own.start();
    return own;
  }

  async start(): Promise<void> {
    const r = await runPg('pg_ctl', ['-D', join(this.dir, 'data'), '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`, '-l', join(this.dir, 'log'), '-w', 'start']);
    if (r.status !== 0) throw new Error(`pg_ctl start failed: ${r.out}\n${this.log()}`);
    this.running = true;
    await waitFor('PostgreSQL to accept connections', async () => {
      const c = new pg.Client({ connectionString: this.url() });
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } finally {
        await c.end().catch(() => undefined);
      }
    });
  }

  /** Stops the cluster; `immediate` cuts every connection at once (the crash-like fault). */
  async stop(mode: 'fast' | 'immediate' = 'immediate'): Promise<void> {
    if (!this.running) return;
    await runPg('pg_ctl', ['-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
    this.running = false;
  }

  async createDatabase(name: string): Promise<string> {
    const c = new pg.Client({ connectionString: this.url() });
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    return this.url(name);
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'log'), 'utf8').slice(-3000);
    } catch {
      return '';
    }
  }

  /** Stops (immediate) and deletes the data directory; safe to call twice. */
  async destroy(): Promise<void> {
    if (this.running) await this.stop('immediate');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const redisServerMissing = (): boolean => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0;

/** Open file descriptors of a process (Linux /proc), or -1 where /proc is unavailable. */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}
