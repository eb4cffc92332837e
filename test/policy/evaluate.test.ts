// Table tests for the pure decision function: every code and reason, and the unmatched default.
import t from 'tap';
import { compilePolicy } from '../../core/policy/compile.js';
import { decisionError, evaluate, evaluateUnmatched, needsIdentity, type PolicyIdentity } from '../../core/policy/evaluate.js';
import type { CompiledPolicy } from '../../core/policy/types.js';

const YAML = `
version: 1
upstreams: { app: "http://127.0.0.1:4000" }
roles:
  viewer: { permissions: [orders:read] }
  editor: { inherits: [viewer], permissions: [orders:write] }
  admin: { inherits: [editor], permissions: ["*"] }
  billing: { permissions: ["invoices:*"] }
  auditor: {}
routes:
  - { name: open, match: { path: /open }, upstream: app, access: public }
  - { name: closed, match: { path: /closed }, access: deny }
  - { name: plain, match: { path: /plain }, upstream: app }
  - { name: roles, match: { path: /roles }, upstream: app, require: { any_role: [viewer, billing] } }
  - { name: perms, match: { path: /perms }, upstream: app, require: { permissions: [orders:write, invoices:pay] } }
  - { name: both, match: { path: /both }, upstream: app, require: { any_role: [editor], permissions: [orders:write] } }
  - { name: tenant, match: { path: "/t/:tenant/**" }, upstream: app, require: { tenant_param: tenant } }
  - { name: tenant-perm, match: { path: "/tp/:tenant" }, upstream: app, require: { tenant_param: tenant, permissions: [orders:read] } }
`;

function load(text: string): CompiledPolicy {
  const { policy, problems } = compilePolicy(text);
  if (!policy) throw new Error(problems.map((p) => p.message).join('\n'));
  return policy;
}
const policy = load(YAML);

function who(roles: string[], tenant: string | null = null): PolicyIdentity {
  return { sub: 'u1', roles, tenant, permissions: policy.permissionsFor(roles) };
}

type Row = [route: string, path: string, identity: PolicyIdentity | null, allow: boolean, status: number, code: string, reason: RegExp];
const rows: Row[] = [
  ['open', '/open', null, true, 200, 'OK', /^public route$/],
  ['open', '/open', who(['viewer']), true, 200, 'OK', /public route/],
  ['closed', '/closed', null, false, 403, 'ERR_ROUTE_DENIED', /route closed denies all access/],
  ['closed', '/closed', who(['admin']), false, 403, 'ERR_ROUTE_DENIED', /denies/],
  ['plain', '/plain', null, false, 401, 'ERR_UNAUTHENTICATED', /authentication required/],
  ['plain', '/plain', who([]), true, 200, 'OK', /^authenticated$/],
  ['roles', '/roles', null, false, 401, 'ERR_UNAUTHENTICATED', /authentication required/],
  ['roles', '/roles', who(['auditor']), false, 403, 'ERR_POLICY_DENIED', /^requires one of roles \[viewer, billing\]$/],
  ['roles', '/roles', who(['viewer']), true, 200, 'OK', /has one of roles/],
  ['roles', '/roles', who(['editor']), true, 200, 'OK', /roles/], // editor inherits viewer
  ['roles', '/roles', who(['admin']), true, 200, 'OK', /roles/], // admin → editor → viewer
  ['roles', '/roles', who(['auditor', 'billing']), true, 200, 'OK', /roles/],
  ['perms', '/perms', who(['editor']), false, 403, 'ERR_POLICY_DENIED', /^missing permission invoices:pay$/],
  ['perms', '/perms', who(['viewer']), false, 403, 'ERR_POLICY_DENIED', /^missing permissions orders:write, invoices:pay$/],
  ['perms', '/perms', who(['editor', 'billing']), true, 200, 'OK', /has permissions \[orders:write, invoices:pay\]/],
  ['perms', '/perms', who(['admin']), true, 200, 'OK', /permissions/],
  ['both', '/both', who(['viewer']), false, 403, 'ERR_POLICY_DENIED', /requires one of roles \[editor\]/],
  ['both', '/both', who(['admin']), true, 200, 'OK', /roles/],
  ['tenant', '/t/acme/x', null, false, 401, 'ERR_UNAUTHENTICATED', /authentication/],
  ['tenant', '/t/acme/x', who([], 'acme'), true, 200, 'OK', /tenant matches/],
  ['tenant', '/t/acme/x', who([], 'globex'), false, 403, 'ERR_TENANT_MISMATCH', /^tenant globex does not match path tenant acme$/],
  ['tenant', '/t/acme/x', who(['admin'], null), false, 403, 'ERR_TENANT_MISMATCH', /^token has no tenant but path tenant is acme$/],
  ['tenant', '/t/ACME/x', who([], 'acme'), false, 403, 'ERR_TENANT_MISMATCH', /does not match/], // exact comparison
  ['tenant-perm', '/tp/acme', who([], 'acme'), false, 403, 'ERR_POLICY_DENIED', /missing permission orders:read/],
  ['tenant-perm', '/tp/acme', who(['viewer'], 'acme'), true, 200, 'OK', /tenant matches/],
];

for (const [routeName, path, identity, allow, status, code, reason] of rows) {
  t.test(`${routeName} ${path} as ${identity === null ? 'anonymous' : `[${identity.roles.join(',')}]@${identity.tenant}`}`, async (t) => {
    const m = policy.match('GET', null, path);
    t.equal(m?.route.name, routeName, 'route');
    if (!m) return;
    const d = evaluate(m.route, identity, m.params);
    t.equal(d.allow, allow, 'allow');
    t.equal(d.status, status, 'status');
    t.equal(d.code, code, 'code');
    t.match(d.reason, reason, 'reason');
  });
}

t.test('evaluate with params lacking the tenant param denies (defensive)', async (t) => {
  const route = policy.routes.find((r) => r.name === 'tenant')!;
  const d = evaluate(route, who([], 'acme'), {});
  t.equal(d.allow, false);
  t.equal(d.code, 'ERR_TENANT_MISMATCH');
});

t.test('evaluateUnmatched', async (t) => {
  const d = evaluateUnmatched(policy);
  t.same({ allow: d.allow, status: d.status, code: d.code }, { allow: false, status: 403, code: 'ERR_ROUTE_DENIED' });
  t.match(d.reason, /no route matches and the default is deny/);
  t.equal(policy.match('GET', null, '/nowhere'), null);

  const withDefault = load(YAML.replace('routes:', 'default: plain\nroutes:'));
  const m = withDefault.match('GET', null, '/nowhere');
  t.equal(m?.route.name, 'plain');
  t.equal(m?.isDefault, true);
  t.equal(evaluateUnmatched(withDefault).status, 401);
  t.equal(evaluateUnmatched(withDefault, who([])).allow, true);
});

t.test('needsIdentity and decisionError', async (t) => {
  t.equal(needsIdentity(policy.routes.find((r) => r.name === 'open')!), false);
  t.equal(needsIdentity(policy.routes.find((r) => r.name === 'closed')!), false);
  t.equal(needsIdentity(policy.routes.find((r) => r.name === 'plain')!), true);
  const e403 = decisionError(evaluate(policy.routes.find((r) => r.name === 'closed')!, null, {}));
  t.match(e403, { code: 'ERR_ROUTE_DENIED', status: 403 });
  const e401 = decisionError(evaluate(policy.routes.find((r) => r.name === 'plain')!, null, {}));
  t.match(e401, { code: 'ERR_UNAUTHENTICATED', status: 401 });
  t.throws(() => decisionError(evaluate(policy.routes.find((r) => r.name === 'open')!, null, {})), TypeError);
});
