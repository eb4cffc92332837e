// authctl sessions list|revoke: parses argv and calls cli/actions/sessions.actions.ts.
import type { Command } from 'commander';
import { runWithCore, withGlobalOptions } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { listSessions, revokeSession, revokeUserSessions } from '../actions/sessions.actions.js';
import { examples, positiveInt } from './common.js';

export function registerSessionsCommands(program: Command): void {
  const sessions = program.command('sessions').description('list and revoke sessions');

  withGlobalOptions(sessions.command('list'))
    .description('list sessions, newest first')
    .option('--user <USER>', 'only this user (id or email)')
    .option('--tenant <slug>', 'only this tenant (or: the tenant of --user)')
    .option('--active', 'only sessions neither revoked nor expired', false)
    .option('--limit <n>', 'at most this many (default 100)', positiveInt, 100)
    .addHelpText('after', examples('authctl sessions list --user ada@example.com --active'))
    .action(async (opts: { user?: string; tenant?: string; active: boolean; limit: number }, cmd: Command) => {
      await runWithCore(cmd, (core, scope) =>
        listSessions(core, scope, {
          ...(opts.user !== undefined ? { user: opts.user } : {}),
          ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
          active: opts.active,
          limit: opts.limit,
        }),
      );
    });

  withGlobalOptions(sessions.command('revoke').argument('[SESSION_ID]', 'the session to revoke'))
    .description('revoke one session, or every session of a user with --user; their access tokens stop working')
    .option('--user <USER>', 'revoke every session of this user (id or email)')
    .option('--tenant <slug>', 'tenant of the --user email, when it exists in several')
    .addHelpText('after', examples('authctl sessions revoke 3f1e…-uuid', 'authctl sessions revoke --user ada@example.com'))
    .action(async (sessionId: string | undefined, opts: { user?: string; tenant?: string }, cmd: Command) => {
      if ((sessionId === undefined) === (opts.user === undefined)) throw new UsageError('sessions revoke: give either SESSION_ID or --user USER');
      await runWithCore(cmd, (core, scope) =>
        opts.user !== undefined ? revokeUserSessions(core, scope, opts.user, opts.tenant) : revokeSession(core, scope, sessionId!),
      );
    });
}
