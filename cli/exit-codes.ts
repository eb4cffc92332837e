// The one place that maps failures to authctl exit codes (SPEC §7): 0 done, 1 failed, 2 bad usage,
// 3 not found, 78 bad configuration (sysexits EX_CONFIG). main.ts calls process.exit with the result.
import { CommanderError } from 'commander';
import { ConfigError, EX_CONFIG } from '../config/load-config.js';
import { isAppError } from '../core/errors.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, config: EX_CONFIG } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Bad usage detected by a command itself (missing --yes without a terminal, conflicting flags…). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command already printed its outcome (e.g. `policies check` problems) and only sets the code. */
export class CommandExit extends Error {
  override readonly name = 'CommandExit';
  constructor(readonly code: ExitCode) {
    super(`exit ${code}`);
  }
}

// AppError codes that mean "the operator's configuration is wrong", whatever their HTTP status.
const CONFIG_CODES = new Set(['ERR_POLICY_INVALID', 'ERR_CONFIG']);

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CommandExit) return err.code;
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof ConfigError) return EXIT.config;
  if (err instanceof CommanderError) {
    // --help / --version end through exitOverride too; everything else commander reports is usage.
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' ? EXIT.ok : EXIT.usage;
  }
  if (isAppError(err)) {
    if (CONFIG_CODES.has(err.code)) return EXIT.config;
    if (err.status === 404) return EXIT.notFound;
    if (err.status === 400 || err.status === 422) return EXIT.usage;
    return EXIT.failed;
  }
  return EXIT.failed;
}

/** The message to print on stderr for a failure (nothing for errors that were already reported). */
export function messageFor(err: unknown): string | null {
  if (err instanceof CommandExit) return null;
  if (err instanceof CommanderError) return null; // commander has written its own message
  if (err instanceof ConfigError) return `authctl: invalid configuration:\n${err.problems.map((p) => `  ${p}`).join('\n')}`;
  if (err instanceof UsageError) return `authctl: ${err.message}`;
  if (isAppError(err)) {
    const lines = [`authctl: ${err.expose ? (err.detail ?? err.title) : err.title}`];
    for (const e of err.errors ?? []) if (!err.detail?.includes(e.message)) lines.push(`  ${e.field}: ${e.message}`);
    return lines.join('\n');
  }
  // Unexpected: a short line, not a stack trace (LOG_LEVEL=debug … --verbose shows more in the log).
  return `authctl: unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}
