// authctl keys list|rotate|retire: parses argv and calls cli/actions/keys.actions.ts.
import { Option, type Command } from 'commander';
import { runWithCore, withGlobalOptions } from '../context.js';
import { listKeys, retireKey, rotateKey } from '../actions/keys.actions.js';
import type { SigningAlg } from '../../core/tokens/key-store.js';
import { examples } from './common.js';

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('token signing keys');

  withGlobalOptions(keys.command('list'))
    .description('list signing keys (active, verify-only, retired)')
    .addHelpText('after', examples('authctl keys list'))
    .action(async (_opts: unknown, cmd: Command) => {
      await runWithCore(cmd, (core) => listKeys(core));
    });

  withGlobalOptions(keys.command('rotate'))
    .description('add a new signing key; the previous one keeps verifying until retired')
    .addOption(new Option('--alg <alg>', 'algorithm').choices(['EdDSA', 'RS256']).default('EdDSA'))
    .addHelpText('after', examples('authctl keys rotate', 'authctl keys rotate --alg RS256'))
    .action(async (opts: { alg: SigningAlg }, cmd: Command) => {
      await runWithCore(cmd, (core, scope) => rotateKey(core, scope, opts.alg));
    });

  withGlobalOptions(keys.command('retire').argument('<KID>', 'key id from keys list'))
    .description('retire a verify-only key: tokens it signed are rejected from now on')
    .addHelpText('after', examples('authctl keys retire ed-1a2b3c4d-m0abc'))
    .action(async (kid: string, _opts: unknown, cmd: Command) => {
      await runWithCore(cmd, (core, scope) => retireKey(core, scope, kid));
    });
}
