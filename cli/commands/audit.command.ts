// `authctl audit list|verify|export|purge` (SPEC §7, §8): parses argv into typed input and calls
// cli/actions/audit.actions.ts. `verify` exits 1 naming the first bad row; `export` streams JSON Lines.
import { once } from 'node:events';
import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../../config/duration.js';
import { createCore } from '../../core/container.js';
import { exportAudit, listAudit, purgeAudit, verifyAudit } from '../actions/audit.actions.js';
import { cliLogger, globalsOf, loadCliConfig, runWithCore, withGlobalOptions } from '../context.js';
import { examples, positiveInt } from './common.js';

interface FilterOptions {
  user?: string;
  action?: string;
  since?: string;
  tenant?: string;
}

const filters = (o: FilterOptions) => ({
  ...(o.user !== undefined ? { user: o.user } : {}),
  ...(o.action !== undefined ? { action: o.action } : {}),
  ...(o.since !== undefined ? { since: o.since } : {}),
  ...(o.tenant !== undefined ? { tenant: o.tenant } : {}),
});

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('must be a duration such as 90d, 12h');
  return ms;
}

function withFilters(cmd: Command): Command {
  return cmd
    .option('--user <id>', 'events whose actor or target is this user id')
    .option('--action <name>', 'an action (auth.login.failed) or a prefix (auth.*)')
    .option('--since <iso>', 'events at or after this ISO-8601 time')
    .option('--tenant <slug>', 'events of one tenant');
}

/** Write to stdout honouring back-pressure (exports can be large). */
async function writeStdout(line: string): Promise<void> {
  if (!process.stdout.write(line)) await once(process.stdout, 'drain');
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail (docs/audit.md)');

  withGlobalOptions(withFilters(audit.command('list')))
    .description('list audit events, newest first')
    .option('--limit <n>', 'at most n events (1-1000)', positiveInt, 50)
    .option('--cursor <seq>', 'continue below this seq (paging)')
    .addHelpText('after', examples('authctl audit list --action "auth.*" --since 2025-01-01', 'authctl audit list --user 0f8c… --json'))
    .action(async (o: FilterOptions & { limit: number; cursor?: string }, cmd: Command) => {
      await runWithCore(cmd, (core) => listAudit(core, { ...filters(o), limit: o.limit, ...(o.cursor !== undefined ? { cursor: o.cursor } : {}) }));
    });

  withGlobalOptions(audit.command('verify'))
    .description('walk the hash chain; exit 0 when intact, 1 naming the first bad row')
    .addHelpText('after', examples('authctl audit verify'))
    .action(async (_o: unknown, cmd: Command) => {
      await runWithCore(cmd, (core) => verifyAudit(core, globalsOf(cmd).json));
    });

  withGlobalOptions(withFilters(audit.command('export')))
    .description('write events as JSON Lines to stdout, oldest first')
    .addHelpText('after', examples('authctl audit export --since 2025-01-01T00:00:00Z > audit.jsonl'))
    .action(async (o: FilterOptions, cmd: Command) => {
      // Not runWithCore: stdout carries only the JSON Lines, streamed, with no trailing summary.
      const g = globalsOf(cmd);
      const config = loadCliConfig(g);
      const core = await createCore(config, { migrate: false, logger: cliLogger(config, g.verbose), revocationPollMs: 0 });
      try {
        await exportAudit(core, filters(o), writeStdout);
      } finally {
        await core.close();
      }
    });

  withGlobalOptions(audit.command('purge'))
    .description('delete events older than audit.retention, leaving a verifiable anchor')
    .option('--retention <duration>', 'override audit.retention for this run (e.g. 90d)', duration)
    .addHelpText('after', examples('authctl audit purge', 'authctl audit purge --retention 180d'))
    .action(async (o: { retention?: number }, cmd: Command) => {
      await runWithCore(cmd, (core, scope) => purgeAudit(core, scope, o.retention));
    });
}
