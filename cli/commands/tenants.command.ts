// authctl tenants create|list|disable|enable: parses argv and calls cli/actions/tenants.actions.ts.
import type { Command } from 'commander';
import { runWithCore, withGlobalOptions } from '../context.js';
import { createTenant, disableTenant, enableTenant, listTenants } from '../actions/tenants.actions.js';
import { examples } from './common.js';

export function registerTenantsCommands(program: Command): void {
  const tenants = program.command('tenants').description('manage tenants (isolated user populations)');

  withGlobalOptions(tenants.command('create').argument('<SLUG>', 'lower-case letters, digits and "-"'))
    .description('create a tenant')
    .option('--name <name>', 'display name (default: the slug)')
    .addHelpText('after', examples('authctl tenants create acme --name "Acme Corp"'))
    .action(async (slug: string, opts: { name?: string }, cmd: Command) => {
      await runWithCore(cmd, (core, scope) => createTenant(core, scope, { slug, ...(opts.name !== undefined ? { name: opts.name } : {}) }));
    });

  withGlobalOptions(tenants.command('list'))
    .description('list tenants')
    .addHelpText('after', examples('authctl tenants list --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      await runWithCore(cmd, (core) => listTenants(core));
    });

  withGlobalOptions(tenants.command('disable').argument('<SLUG>', 'the tenant'))
    .description("disable a tenant: its logins are refused and all its sessions revoked")
    .addHelpText('after', examples('authctl tenants disable acme'))
    .action(async (slug: string, _opts: unknown, cmd: Command) => {
      await runWithCore(cmd, (core, scope) => disableTenant(core, scope, slug));
    });

  withGlobalOptions(tenants.command('enable').argument('<SLUG>', 'the tenant'))
    .description('enable a disabled tenant again')
    .addHelpText('after', examples('authctl tenants enable acme'))
    .action(async (slug: string, _opts: unknown, cmd: Command) => {
      await runWithCore(cmd, (core, scope) => enableTenant(core, scope, slug));
    });
}
