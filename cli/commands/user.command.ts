// authctl user …: parses argv into typed inputs and calls cli/actions/user.actions.ts. Secrets come only
// from --password-stdin or a terminal prompt with echo off; delete asks on a terminal or needs --yes.
import type { Command } from 'commander';
import { runWithCore, withGlobalOptions } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { confirm, isInteractive, promptSecret, readSecretFromStdin } from '../prompt.js';
import {
  createUser,
  deleteUser,
  describeForDelete,
  disableUser,
  enableUser,
  exportUser,
  listUsers,
  resetPassword,
  setRoles,
  showUser,
  unlockUser,
  type UserRef,
} from '../actions/user.actions.js';
import { collect, examples, positiveInt } from './common.js';

const ref = (user: string, opts: { tenant?: string }): UserRef => ({ user, ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}) });

/** --password-stdin, else a prompt on a terminal (twice, echo off), else no password at all. */
async function readNewPassword(fromStdin: boolean): Promise<string | undefined> {
  if (fromStdin) return readSecretFromStdin();
  if (!isInteractive()) return undefined;
  const first = await promptSecret('Password (empty for none): ');
  if (first === '') return undefined;
  const again = await promptSecret('Repeat password: ');
  if (again !== first) throw new UsageError('the passwords do not match');
  return first;
}

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage user accounts (USER is an id or an email)');

  withGlobalOptions(user.command('create'))
    .description('create a user; the password comes from --password-stdin or a prompt (none without a terminal)')
    .requiredOption('--email <email>', 'email address (stored normalised)')
    .requiredOption('--username <name>', '3-64 letters, digits, ".", "_" or "-"')
    .option('--role <role>', 'a role from policies.yaml (repeatable; default: the configured default role)', collect, [])
    .option('--tenant <slug>', 'tenant (default: "default")')
    .option('--password-stdin', 'read the password from standard input', false)
    .addHelpText('after', examples(
      "printf '%s' \"$PW\" | authctl user create --email ada@example.com --username ada --role admin --password-stdin",
      'authctl user create --email bob@acme.test --username bob --tenant acme --json',
    ))
    .action(async (opts: { email: string; username: string; role: string[]; tenant?: string; passwordStdin: boolean }, cmd: Command) => {
      const password = await readNewPassword(opts.passwordStdin);
      await runWithCore(cmd, (core, scope) =>
        createUser(core, scope, {
          email: opts.email,
          username: opts.username,
          roles: opts.role,
          ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
          ...(password !== undefined ? { password } : {}),
        }),
      );
    });

  withGlobalOptions(user.command('list'))
    .description('list users, oldest first')
    .option('--tenant <slug>', 'only this tenant')
    .option('--role <role>', 'only users holding this role')
    .option('--disabled', 'only disabled users')
    .option('--email-prefix <prefix>', 'only emails starting with this')
    .option('--limit <n>', 'at most this many (default 100)', positiveInt, 100)
    .addHelpText('after', examples('authctl user list --tenant acme --role admin', 'authctl user list --disabled --json | jq -r .[].email'))
    .action(async (opts: { tenant?: string; role?: string; disabled?: boolean; emailPrefix?: string; limit: number }, cmd: Command) => {
      await runWithCore(cmd, (core, scope) =>
        listUsers(core, scope, {
          ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
          ...(opts.role !== undefined ? { role: opts.role } : {}),
          ...(opts.disabled ? { disabled: true } : {}),
          ...(opts.emailPrefix !== undefined ? { q: opts.emailPrefix } : {}),
          limit: opts.limit,
        }),
      );
    });

  const simple: Array<[string, string, typeof showUser, string]> = [
    ['show', 'show one user', showUser, 'authctl user show ada@example.com'],
    ['disable', 'disable a user: logins refused, every session revoked, live tokens rejected', disableUser, 'authctl user disable ada@example.com --tenant acme'],
    ['enable', 'enable a disabled user', enableUser, 'authctl user enable 0b6c…-uuid'],
    ['unlock', 'clear a lockout after too many failed logins', unlockUser, 'authctl user unlock ada@example.com'],
    ['export', 'GDPR export: everything held about the user, as JSON', exportUser, 'authctl user export ada@example.com > ada.json'],
  ];
  for (const [name, description, action, example] of simple) {
    withGlobalOptions(user.command(name).argument('<USER>', 'user id or email'))
      .description(description)
      .option('--tenant <slug>', 'tenant of the email, when it exists in several')
      .addHelpText('after', examples(example))
      .action(async (userRef: string, opts: { tenant?: string }, cmd: Command) => {
        await runWithCore(cmd, (core, scope) => action(core, scope, ref(userRef, opts)));
      });
  }

  withGlobalOptions(user.command('delete').argument('<USER>', 'user id or email'))
    .description('GDPR erase: personal data and sessions deleted, audit rows pseudonymised (asks on a terminal)')
    .option('--tenant <slug>', 'tenant of the email, when it exists in several')
    .option('--yes', 'do not ask (required without a terminal)', false)
    .addHelpText('after', examples('authctl user delete ada@example.com', 'authctl user delete 0b6c…-uuid --yes'))
    .action(async (userRef: string, opts: { tenant?: string; yes: boolean }, cmd: Command) => {
      if (!opts.yes && !isInteractive()) throw new UsageError('user delete: not on a terminal; pass --yes to confirm the erase');
      await runWithCore(cmd, async (core, scope) => {
        const target = await describeForDelete(core, scope, ref(userRef, opts));
        if (!opts.yes && !(await confirm(`Erase ${target.label}? This cannot be undone.`))) throw new UsageError('not confirmed; nothing was deleted');
        return deleteUser(core, scope, target.id, target.label);
      });
    });

  withGlobalOptions(user.command('set-role').argument('<USER>', 'user id or email').argument('<ROLE...>', 'roles from policies.yaml (replace the current ones)'))
    .description("replace a user's roles (each must be defined in policies.yaml roles:)")
    .option('--tenant <slug>', 'tenant of the email, when it exists in several')
    .addHelpText('after', examples('authctl user set-role ada@example.com admin editor'))
    .action(async (userRef: string, roles: string[], opts: { tenant?: string }, cmd: Command) => {
      await runWithCore(cmd, (core, scope) => setRoles(core, scope, ref(userRef, opts), roles));
    });

  withGlobalOptions(user.command('reset-password').argument('<USER>', 'user id or email'))
    .description('email the user a password-reset link (--print shows the link instead of mailing it)')
    .option('--tenant <slug>', 'tenant of the email, when it exists in several')
    .option('--print', 'print the link instead of mailing it', false)
    .addHelpText('after', examples('authctl user reset-password ada@example.com', 'authctl user reset-password ada@example.com --print'))
    .action(async (userRef: string, opts: { tenant?: string; print: boolean }, cmd: Command) => {
      await runWithCore(cmd, (core, scope) => resetPassword(core, scope, ref(userRef, opts), opts.print));
    });
}
