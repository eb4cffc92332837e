// What every authctl command shares: the global flags (--config, --database-url, --json, --verbose),
// loading the config, opening core without migrating, the operator scope and running an action.
import { userInfo } from 'node:os';
import { destination } from 'pino';
import type { Command } from 'commander';
import type { Config } from '../config/config.schema.js';
import { loadConfig } from '../config/load-config.js';
import { createCore, type Core } from '../core/container.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { AdminScope } from '../core/services/user-admin.service.js';
import { print, type Output } from './output.js';

export interface GlobalOptions {
  config?: string;
  databaseUrl?: string;
  json: boolean;
  verbose: boolean;
}

/** Adds the flags every command takes (SPEC §7) to a leaf command. */
export function withGlobalOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'authgate.yaml to read (default: $AUTHGATE_CONFIG)')
    .option('--database-url <url>', 'postgres://… or sqlite:PATH (default: $DATABASE_URL or the config)')
    .option('--json', 'machine-readable JSON output', false)
    .option('--verbose', 'log at the configured level on stderr (default: warnings only)', false);
}

export function globalsOf(cmd: Command): GlobalOptions {
  const o = cmd.opts<{ config?: string; databaseUrl?: string; json?: boolean; verbose?: boolean }>();
  return {
    ...(o.config !== undefined ? { config: o.config } : {}),
    ...(o.databaseUrl !== undefined ? { databaseUrl: o.databaseUrl } : {}),
    json: o.json === true,
    verbose: o.verbose === true,
  };
}

/** Flags override the file and the environment (config/load-config.ts reads both). */
export function loadCliConfig(g: GlobalOptions): Config {
  return loadConfig({
    ...(g.config !== undefined ? { file: g.config } : {}),
    overrides: { database: { url: g.databaseUrl } },
  });
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Logs go to stderr so stdout carries only the command's output (pipe-able --json). */
export function cliLogger(config: Config, verbose: boolean): Logger {
  const configured = config.log.level;
  const level = verbose || LEVELS.indexOf(configured) > LEVELS.indexOf('warn') ? configured : 'warn';
  return createLogger(level, destination({ dest: 2, sync: true }));
}

/** The audit actor for everything authctl does: `cli:<os user>`. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

/** authctl acts across tenants, as the operator of the installation. */
export function operatorScope(): AdminScope {
  return { actor: cliActor(), tenantId: null, meta: { ip: null, userAgent: 'authctl' } };
}

/**
 * Opens core (migrations are `authctl migrate`'s job, never a side effect), runs the action, prints its
 * output and closes core even when the action fails.
 */
export async function runWithCore(cmd: Command, action: (core: Core, scope: AdminScope) => Promise<Output>): Promise<void> {
  const g = globalsOf(cmd);
  const config = loadCliConfig(g);
  const core = await createCore(config, { migrate: false, logger: cliLogger(config, g.verbose), revocationPollMs: 0 });
  try {
    print(await action(core, operatorScope()), g.json);
  } finally {
    await core.close();
  }
}

/** For commands that need the config but no database (policies …). */
export async function runWithConfig(cmd: Command, action: (config: Config, g: GlobalOptions) => Promise<Output>): Promise<void> {
  const g = globalsOf(cmd);
  print(await action(loadCliConfig(g), g), g.json);
}
