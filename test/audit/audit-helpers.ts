// Helpers for the audit tests: a core on a fresh test database, raw SQL access for tampering, and
// running the built authctl (dist/) as a child process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { loadConfig } from '../../config/load-config.js';
import { createCore, type Core } from '../../core/container.js';
import { createLogger } from '../../core/logger.js';
import type { Clock } from '../../core/clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function configFor(url: string, extra: Record<string, Record<string, unknown>> = {}) {
  return loadConfig({
    env: {},
    overrides: { database: { url }, security: { bcrypt_cost: 4 }, log: { level: 'silent' }, policies: { file: `${ROOT}policies.yaml` }, ...extra },
  });
}

/** Collects every log line a pino logger writes. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestCore {
  core: Core;
  db: TestDatabase;
  logs: LogCapture;
  close(): Promise<void>;
}

export async function startTestCore(options: { db?: TestDatabase; clock?: Clock; config?: Record<string, Record<string, unknown>> } = {}): Promise<TestCore> {
  const db = options.db ?? (await createTestDatabase('audit'));
  const logs = new LogCapture();
  const core = await createCore(configFor(db.url, options.config), {
    migrate: true,
    logger: createLogger('debug', logs),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    core,
    db,
    logs,
    async close() {
      await core.close();
      if (!options.db) await db.drop();
    },
  };
}

/** Runs raw SQL on the core's connection (tampering happens outside the application's API). */
export async function rawSql(core: Core, sql: string): Promise<unknown[]> {
  const [rows] = await core.db.sequelize.query(sql);
  return rows as unknown[];
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/authctl.js ...args` against a database (dist/ must be built: npx tsc -p tsconfig.build.json). */
export function authctl(args: string[], env: Record<string, string>): Promise<RunResult> {
  return runNode([`${ROOT}bin/authctl.js`, ...args], env);
}

export function runNode(args: string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
