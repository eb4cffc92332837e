// authctl keys …: signing keys through core.keys (the KeyStore the server signs and verifies with).
import type { Core } from '../../core/container.js';
import { Errors } from '../../core/errors.js';
import type { AdminScope } from '../../core/services/user-admin.service.js';
import type { KeyInfo, SigningAlg } from '../../core/tokens/key-store.js';
import { list, message, type Column, type Output } from '../output.js';

export const KEY_COLUMNS: readonly Column<KeyInfo>[] = [
  { header: 'KID', value: (k) => k.kid },
  { header: 'ALG', value: (k) => k.alg },
  { header: 'STATE', value: (k) => (k.retired_at ? 'retired' : k.active ? 'active' : 'verify-only') },
  { header: 'CREATED', value: (k) => k.created_at },
  { header: 'RETIRED', value: (k) => k.retired_at },
];

export async function listKeys(core: Core): Promise<Output> {
  return list(await core.keys.list(), KEY_COLUMNS, '(no keys)');
}

export async function rotateKey(core: Core, scope: AdminScope, alg: SigningAlg): Promise<Output> {
  const kid = await core.keys.rotate(alg);
  await core.audit.record({ action: 'key.rotated', actor: scope.actor, target: kid, outcome: 'success', details: { alg } });
  return message(`new ${alg} signing key ${kid}; earlier keys keep verifying until retired`, { kid, alg });
}

export async function retireKey(core: Core, scope: AdminScope, kid: string): Promise<Output> {
  const key = (await core.keys.list()).find((k) => k.kid === kid);
  if (!key || key.retired_at) throw Errors.notFound('Signing key');
  // KeyStore refuses too (TypeError); say it as an operator error, not a crash.
  if (key.active) throw Errors.conflict(`${kid} is the active ${key.alg} signing key; run \`authctl keys rotate\` first.`, 'ERR_KEY_ACTIVE');
  await core.keys.retire(kid);
  await core.audit.record({ action: 'key.retired', actor: scope.actor, target: kid, outcome: 'success', details: { alg: key.alg } });
  return message(`retired ${kid}: tokens signed with it are no longer accepted`, { kid, retired: true });
}
