// authctl migrate: applies pending database migrations (or lists them with --status).
import type { Command } from 'commander';
import { runWithConfig, withGlobalOptions } from '../context.js';
import { runMigrations } from '../actions/migrate.action.js';
import { examples } from './common.js';

export function registerMigrateCommand(program: Command): void {
  withGlobalOptions(program.command('migrate'))
    .description('apply pending database migrations (PostgreSQL: under an advisory lock, safe with replicas)')
    .option('--status', 'only list pending migrations', false)
    .addHelpText('after', examples('authctl migrate --database-url postgres://authgate@db/authgate', 'authctl migrate --status'))
    .action(async (opts: { status: boolean }, cmd: Command) => {
      await runWithConfig(cmd, (config) => runMigrations(config, opts.status));
    });
}
