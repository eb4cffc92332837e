// Role expansion (inherits, cycles, unknown parents), wildcard permission checks and the cached resolver.
import t from 'tap';
import { checkPermissionSyntax, createPermissionResolver, expandRoles, hasPermission, type RoleDefinition } from '../../core/policy/permissions.js';

const roles = (defs: Record<string, Partial<RoleDefinition>>) =>
  new Map(Object.entries(defs).map(([k, v]) => [k, { permissions: v.permissions ?? [], inherits: v.inherits ?? [] }]));

t.test('hasPermission', async (t) => {
  const cases: [string[], string, boolean][] = [
    [['orders:read'], 'orders:read', true],
    [['orders:read'], 'orders:write', false],
    [['orders:read'], 'orders', false],
    [['orders:*'], 'orders:read', true],
    [['orders:*'], 'orders:items:write', true],
    [['orders:*'], 'orders', false],
    [['orders:*'], 'ordersx:read', false],
    [['orders:items:*'], 'orders:items:write', true],
    [['orders:items:*'], 'orders:read', false],
    [['*'], 'anything:at:all', true],
    [['*'], 'x', true],
    [[], 'orders:read', false],
    [['orders:*'], 'orders:*', true],
    [['orders:read'], 'orders:*', false],
    [['a:*'], 'b:a:x', false],
  ];
  for (const [granted, required, want] of cases) t.equal(hasPermission(new Set(granted), required), want, `[${granted}] ⊢ ${required}`);
});

t.test('permission syntax', async (t) => {
  for (const ok of ['orders:read', 'orders:*', '*', 'a:b:c', 'admin:users', 'api/v1:read']) t.equal(checkPermissionSyntax(ok), null, ok);
  for (const bad of ['', 'orders:*:read', '*:read', 'orders:', ':read', 'a b', 'orders*', 'a::b']) t.not(checkPermissionSyntax(bad), null, bad);
});

t.test('expandRoles: inherits is transitive; closure lists ancestors', async (t) => {
  const e = expandRoles(roles({
    viewer: { permissions: ['orders:read'] },
    editor: { inherits: ['viewer'], permissions: ['orders:write'] },
    admin: { inherits: ['editor'], permissions: ['*'] },
    diamond: { inherits: ['viewer', 'editor'] },
  }));
  t.same(e.problems, []);
  t.same([...e.permissions.get('editor')!].sort(), ['orders:read', 'orders:write']);
  t.same([...e.permissions.get('admin')!].sort(), ['*', 'orders:read', 'orders:write']);
  t.same([...e.permissions.get('diamond')!].sort(), ['orders:read', 'orders:write']);
  t.same([...e.closure.get('admin')!].sort(), ['admin', 'editor', 'viewer']);
  t.same([...e.closure.get('viewer')!], ['viewer']);
});

t.test('expandRoles: cycles and unknown parents are reported once each, expansion completes', async (t) => {
  const e = expandRoles(roles({
    a: { inherits: ['b'], permissions: ['a:x'] },
    b: { inherits: ['c'], permissions: ['b:x'] },
    c: { inherits: ['a', 'ghost'], permissions: ['c:x'] },
    self: { inherits: ['self'] },
    ok: { permissions: ['ok:x'] },
  }));
  const messages = e.problems.map((p) => p.message);
  t.equal(messages.filter((m) => m.includes('cycle')).length, 2, messages.join('\n'));
  t.ok(messages.some((m) => /cycle: a -> b -> c -> a/.test(m)));
  t.ok(messages.some((m) => /cycle: self -> self/.test(m)));
  t.ok(messages.some((m) => m.includes('unknown role "ghost"')));
  t.same([...e.permissions.get('a')!].sort(), ['a:x', 'b:x', 'c:x']);
  t.same([...e.permissions.get('ok')!], ['ok:x']);
});

t.test('permissionsFor: union of roles, unknown roles grant nothing, cached per combination', async (t) => {
  const e = expandRoles(roles({ viewer: { permissions: ['orders:read'] }, billing: { permissions: ['invoices:*'] } }));
  const pf = createPermissionResolver(e.permissions, 2);
  t.same([...pf(['viewer', 'billing'])].sort(), ['invoices:*', 'orders:read']);
  t.equal(pf(['viewer', 'billing']), pf(['billing', 'viewer']), 'order does not matter (same cached set)');
  t.equal(pf(['viewer', 'billing', 'viewer']), pf(['billing', 'viewer', 'viewer']));
  t.same([...pf(['nobody'])], []);
  t.same([...pf([])], []);
  t.equal(pf(['viewer']), e.permissions.get('viewer'));
  // bounded: with room for 2 entries, a third evicts the least recently used
  const first = pf(['viewer', 'billing']);
  pf(['viewer', 'nobody']);
  pf(['billing', 'nobody']);
  t.not(pf(['viewer', 'billing']), first, 'evicted and rebuilt');
  t.same([...pf(['viewer', 'billing'])].sort(), [...first].sort());
});
