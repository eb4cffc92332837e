// `authctl` entry point: builds the commander program from the command groups, runs it, and turns the
// outcome into an exit code (cli/exit-codes.ts) — the only process.exit in the CLI.
import { Command } from 'commander';
import { registerKeysCommands } from './commands/keys.command.js';
import { registerMigrateCommand } from './commands/migrate.command.js';
import { registerPoliciesCommands } from './commands/policies.command.js';
import { registerSessionsCommands } from './commands/sessions.command.js';
import { registerTenantsCommands } from './commands/tenants.command.js';
import { registerUserCommands } from './commands/user.command.js';
import { registerAuditCommands } from './commands/audit.command.js';
import { registerClientsCommands } from './commands/clients.command.js';
import { EXIT, exitCodeFor, messageFor } from './exit-codes.js';

/** Adds one command group (`authctl <group> …`) to the program. */
export type RegisterCommands = (program: Command) => void;

/**
 * Every command group, in help order. To add a group (audit, clients): write
 * cli/commands/<group>.command.ts exporting a RegisterCommands function and add it to this list.
 */
export const COMMAND_GROUPS: readonly RegisterCommands[] = [
  registerMigrateCommand,
  registerUserCommands,
  registerSessionsCommands,
  registerTenantsCommands,
  registerKeysCommands,
  registerPoliciesCommands,
  registerAuditCommands,
  registerClientsCommands,
];

export function buildProgram(groups: readonly RegisterCommands[] = COMMAND_GROUPS): Command {
  const program = new Command('authctl')
    .description('authgate administration: users, sessions, tenants, keys, policies')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of groups) register(program);
  // Subcommands inherit exitOverride/showHelpAfterError only if set before they are created; set again.
  const applyAll = (cmd: Command) => {
    cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
    cmd.commands.forEach(applyAll);
  };
  applyAll(program);
  return program;
}

/** `--password` / `--password=…` anywhere before `--`: refused with a reason rather than "unknown option". */
function secretInArgv(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--password' || a.startsWith('--password=') || a === '--new-password' || a.startsWith('--new-password=')) return true;
  }
  return false;
}

export async function main(argv: string[]): Promise<void> {
  let code: number = EXIT.ok;
  if (secretInArgv(argv.slice(2))) {
    process.stderr.write(
      'authctl: passwords are never accepted on the command line (they end up in shell history and `ps`);\n' +
        '         pipe it with --password-stdin, or run on a terminal to be prompted\n',
    );
    code = EXIT.usage;
  } else {
    try {
      await buildProgram().parseAsync(argv);
    } catch (err) {
      code = exitCodeFor(err);
      const text = messageFor(err);
      if (text) process.stderr.write(`${text}\n`);
    }
  }
  // Exit explicitly: a pool or Redis socket left open by a failed action must not keep the CLI alive.
  process.exit(code);
}
