// authctl policies check|explain|test: parses argv and calls cli/actions/policies.actions.ts (no database).
import type { Command } from 'commander';
import { globalsOf, runWithConfig, withGlobalOptions } from '../context.js';
import { checkPolicies, explainRequest, testPolicies } from '../actions/policies.actions.js';
import { collect, examples } from './common.js';

export function registerPoliciesCommands(program: Command): void {
  const policies = program.command('policies').description('check, explain and test policies.yaml');

  withGlobalOptions(policies.command('check').argument('[FILE]', 'policy file (default: policies.file / $POLICIES_FILE)'))
    .description('validate a policy file; exit 1 when it is invalid or a route can never match (shadowed)')
    .addHelpText('after', examples('authctl policies check', 'authctl policies check ./policies.yaml --json'))
    .action(async (file: string | undefined, _opts: unknown, cmd: Command) => {
      await runWithConfig(cmd, (config) => checkPolicies(config, file, globalsOf(cmd).json));
    });

  withGlobalOptions(policies.command('explain').argument('<METHOD>', 'HTTP method').argument('<PATH_OR_URL>', '/path?query or http(s)://host/path'))
    .description('show the normalised path, the deciding route and allow/deny with the reason (exit 0 either way)')
    .option('--role <role>', 'caller role (repeatable); with none and no --tenant the caller is anonymous', collect, [])
    .option('--tenant <slug>', "caller's tenant (the token tid)")
    .option('--host <host>', 'Host header to match when PATH_OR_URL is a path')
    .option('--policies <file>', 'policy file (default: policies.file / $POLICIES_FILE)')
    .addHelpText('after', examples('authctl policies explain GET /api/orders/7 --role viewer', 'authctl policies explain POST https://api.example.com/t/acme/x --tenant acme --json'))
    .action(async (method: string, target: string, opts: { role: string[]; tenant?: string; host?: string; policies?: string }, cmd: Command) => {
      await runWithConfig(cmd, (config) =>
        explainRequest(config, {
          method,
          target,
          roles: opts.role,
          ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
          ...(opts.host !== undefined ? { host: opts.host } : {}),
          ...(opts.policies !== undefined ? { file: opts.policies } : {}),
        }),
      );
    });

  withGlobalOptions(policies.command('test').argument('<FILE>', 'YAML list of request expectations'))
    .description('run request expectations against the policy; exit 1 when any fails')
    .addHelpText('after', examples('authctl policies test policies.test.yaml'))
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      await runWithConfig(cmd, (config) => testPolicies(config, file, globalsOf(cmd).json));
    });
}
