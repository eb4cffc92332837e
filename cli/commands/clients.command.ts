// authctl clients create|list|delete: parses argv and calls cli/actions/clients.actions.ts (docs/oidc.md).
import { Option, type Command } from 'commander';
import { runWithCore, withGlobalOptions } from '../context.js';
import { createClient, deleteClient, listClients } from '../actions/clients.actions.js';
import type { SigningAlg } from '../../core/tokens/key-store.js';
import { collect, examples } from './common.js';

interface CreateOptions {
  redirectUri: string[];
  confidential: boolean;
  scopes?: string[];
  firstParty: boolean;
  tenant?: string;
  idTokenAlg: SigningAlg;
}

export function registerClientsCommands(program: Command): void {
  const clients = program.command('clients').description('OAuth2 / OpenID Connect clients (relying parties)');

  withGlobalOptions(clients.command('create').argument('<NAME>', 'display name shown on the consent page'))
    .description('register a client; a confidential client\'s secret is printed once')
    .option('--redirect-uri <uri...>', 'exact redirect URI (repeatable; https, or http for localhost)', [])
    .option('--confidential', 'a server-side client with a secret (default: public, PKCE only)', false)
    .option('--scopes <scope...>', 'scopes it may request (default: openid profile email offline_access)')
    .option('--scope <scope>', 'one scope (repeatable)', collect, [])
    .option('--first-party', 'skip the consent page (your own applications)', false)
    .option('--tenant <slug>', 'the tenant whose users sign in (default: default)')
    .addOption(new Option('--id-token-alg <alg>', 'ID token signature algorithm').choices(['EdDSA', 'RS256']).default('EdDSA'))
    .addHelpText(
      'after',
      examples(
        'authctl clients create "Grafana" --redirect-uri https://grafana.example.com/login/generic_oauth --confidential --first-party',
        'authctl clients create spa --redirect-uri http://localhost:5173/callback --scopes openid profile email',
        'authctl clients create reports --confidential --scopes reports:read --json',
      ),
    )
    .action(async (name: string, opts: CreateOptions & { scope: string[] }, cmd: Command) => {
      const scopes = [...(opts.scopes ?? []).flatMap((s) => s.split(/[ ,]+/)), ...opts.scope].filter((s) => s !== '');
      await runWithCore(cmd, (core, scope) =>
        createClient(core, scope, {
          name,
          redirectUris: opts.redirectUri,
          confidential: opts.confidential,
          firstParty: opts.firstParty,
          idTokenAlg: opts.idTokenAlg,
          // Without a redirect URI the client can only use client_credentials.
          ...(opts.redirectUri.length === 0 && opts.confidential ? { grantTypes: ['client_credentials' as const] } : {}),
          ...(scopes.length ? { scopes } : {}),
          ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
        }),
      );
    });

  withGlobalOptions(clients.command('list'))
    .description('list registered clients (secrets are never shown)')
    .addHelpText('after', examples('authctl clients list --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      await runWithCore(cmd, (core) => listClients(core));
    });

  withGlobalOptions(clients.command('delete').argument('<ID>', 'client_id from clients list'))
    .description('delete a client and revoke every session it was granted')
    .addHelpText('after', examples('authctl clients delete 3q2+7w…'))
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await runWithCore(cmd, (core, scope) => deleteClient(core, scope, id));
    });
}
