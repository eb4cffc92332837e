// The root policies.yaml is the users' reference example: it must compile with no problem at all and
// keep the shape the docs describe.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { compilePolicy } from '../../core/policy/compile.js';
import { hasPermission } from '../../core/policy/permissions.js';

const text = readFileSync(new URL('../../policies.yaml', import.meta.url), 'utf8');

t.test('policies.yaml compiles cleanly', async (t) => {
  const { policy, problems } = compilePolicy(text);
  t.same(problems, [], 'no errors and no warnings');
  if (!policy) return;
  t.equal(policy.upstreams.get('demo')?.href, 'http://127.0.0.1:4000/');
  t.equal(policy.defaultRoute, null, 'default: deny');
  t.same(policy.routes.map((r) => r.name), ['health', 'public-assets', 'orders-read', 'orders-write', 'tenant-data', 'admin-ui', 'profile']);
  const admin = policy.permissionsFor(['admin']);
  for (const p of ['admin:users', 'admin:sessions', 'admin:audit', 'orders:write', 'anything:else']) t.ok(hasPermission(admin, p), `admin has ${p}`);
  t.notOk(hasPermission(policy.permissionsFor(['viewer']), 'orders:write'));
  t.ok(hasPermission(policy.permissionsFor(['editor']), 'orders:read'), 'editor inherits viewer');
});
