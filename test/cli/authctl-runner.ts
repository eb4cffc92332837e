// Runs the built authctl (bin/authctl.js → dist/) as a child process with a clean environment, so the
// tests exercise argv parsing, stdin, stdout/stderr and exit codes exactly as an operator sees them.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const AUTHCTL = fileURLToPath(new URL('../../bin/authctl.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to stdin, then stdin is closed (stdin is never a terminal here). */
  input?: string;
  env?: Record<string, string>;
}

export function runAuthctl(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AUTHCTL, ...args], {
      // Only what the CLI needs: the host's DATABASE_URL, AUTHGATE_* … must not leak into the test.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', BCRYPT_COST: '4', ...(options.env ?? {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A runner bound to one database and policy file. */
export function authctlFor(databaseUrl: string, policiesFile: string, extraEnv: Record<string, string> = {}) {
  return (args: string[], options: CliOptions = {}) =>
    runAuthctl([...args, '--database-url', databaseUrl], { ...options, env: { POLICIES_FILE: policiesFile, PUBLIC_URL: 'http://authgate.test', ...extraEnv, ...(options.env ?? {}) } });
}

export function parseJson<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}
