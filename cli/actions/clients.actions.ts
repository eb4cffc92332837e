// authctl clients …: OAuth2 client registration through core.oauth.clients. The secret of a confidential
// client is shown once, at creation; only its SHA-256 is stored.
import type { Core } from '../../core/container.js';
import type { ClientView, CreateClientInput } from '../../core/oauth/client.service.js';
import type { AdminScope } from '../../core/services/user-admin.service.js';
import { list, message, type Column, type Output } from '../output.js';

export const CLIENT_COLUMNS: readonly Column<ClientView>[] = [
  { header: 'CLIENT_ID', value: (c) => c.client_id },
  { header: 'NAME', value: (c) => c.name },
  { header: 'TYPE', value: (c) => c.type },
  { header: 'TENANT', value: (c) => c.tenant },
  { header: 'FIRST_PARTY', value: (c) => (c.first_party ? 'yes' : 'no') },
  { header: 'ID_TOKEN_ALG', value: (c) => c.id_token_signed_response_alg },
  { header: 'REDIRECT_URIS', value: (c) => c.redirect_uris.join(',') },
  { header: 'SCOPES', value: (c) => c.scopes.join(' ') },
];

export async function createClient(core: Core, scope: AdminScope, input: CreateClientInput): Promise<Output> {
  const { client, secret } = await core.oauth.clients.create(input, scope.actor);
  const view = await core.oauth.clients.view(client);
  const lines = [`created ${view.type} client "${view.name}"`, `client_id:     ${view.client_id}`];
  if (secret !== null) lines.push(`client_secret: ${secret}`, 'The secret is shown only now; store it safely (it cannot be retrieved later).');
  return message(lines.join('\n'), { ...view, ...(secret !== null ? { client_secret: secret } : {}) });
}

export async function listClients(core: Core): Promise<Output> {
  return list(await core.oauth.clients.list(), CLIENT_COLUMNS, '(no clients)');
}

export async function deleteClient(core: Core, scope: AdminScope, id: string): Promise<Output> {
  await core.oauth.clients.delete(id, scope.actor, scope.meta);
  return message(`deleted client ${id}; its sessions were revoked`, { client_id: id, deleted: true });
}
