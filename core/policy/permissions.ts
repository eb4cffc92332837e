// Role → permission expansion for policies.yaml: `inherits` closure (cycles are compile problems),
// wildcard permissions, and the per-request permissionsFor(roles) lookup with a bounded cache.

/*
 * Permission strings are `:`-separated (`orders:read`, `admin:users`). Wildcards:
 *   `*`        grants every permission;
 *   `orders:*` grants every permission that starts with `orders:` at any depth (`orders:read`,
 *              `orders:items:write`) but not `orders` itself;
 * `*` is only meaningful as the whole last part — `orders:*:read` is rejected at compile time, so a
 * check is a handful of Set lookups (one per `:` in the required permission), never a scan.
 */
const PERMISSION = /^(?:\*|[A-Za-z0-9_.\-/]+(?::[A-Za-z0-9_.\-/]+)*(?::\*)?)$/;

/** Why a permission string is invalid, or null when it is fine. */
export function checkPermissionSyntax(permission: string): string | null {
  if (PERMISSION.test(permission)) return null;
  if (permission.includes('*')) return `permission "${permission}": "*" is allowed only as the whole last part ("orders:*" or "*")`;
  return `permission "${permission}" must be parts of letters, digits, "_", ".", "-", "/" separated by ":"`;
}

/** Whether the granted set satisfies `required` (exactly, via `*`, or via a `prefix:*` wildcard). */
export function hasPermission(granted: ReadonlySet<string>, required: string): boolean {
  if (granted.size === 0) return false;
  if (granted.has(required) || granted.has('*')) return true;
  for (let i = required.indexOf(':'); i !== -1; i = required.indexOf(':', i + 1)) {
    if (granted.has(required.slice(0, i + 1) + '*')) return true;
  }
  return false;
}

export interface RoleDefinition {
  readonly permissions: readonly string[];
  readonly inherits: readonly string[];
}

export interface RoleProblem {
  readonly role: string;
  /** `inherits` when about the inherits list (unknown role, cycle). */
  readonly field: 'inherits';
  readonly message: string;
}

export interface ExpandedRoles {
  /** role → every permission it grants, through inherits. */
  readonly permissions: ReadonlyMap<string, ReadonlySet<string>>;
  /** role → itself plus every role it inherits, transitively (a role satisfies `any_role` of its ancestors). */
  readonly closure: ReadonlyMap<string, ReadonlySet<string>>;
  readonly problems: readonly RoleProblem[];
}

/**
 * Expand every role through `inherits`. Unknown parents and cycles are reported (each cycle once, as
 * `a -> b -> a`); the expansion still completes, ignoring the offending edges, so later checks can run.
 */
export function expandRoles(roles: ReadonlyMap<string, RoleDefinition>): ExpandedRoles {
  const problems: RoleProblem[] = [];
  const closure = new Map<string, Set<string>>();
  const state = new Map<string, 'visiting' | 'done'>();
  const reportedCycles = new Set<string>();

  const visit = (role: string, stack: string[]): Set<string> => {
    const done = closure.get(role);
    if (state.get(role) === 'done' && done !== undefined) return done;
    state.set(role, 'visiting');
    stack.push(role);
    const mine = new Set<string>([role]);
    const def = roles.get(role);
    for (const parent of def?.inherits ?? []) {
      if (!roles.has(parent)) {
        problems.push({ role, field: 'inherits', message: `role "${role}" inherits unknown role "${parent}"` });
        continue;
      }
      if (state.get(parent) === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(parent)), parent];
        const key = [...cycle.slice(0, -1)].sort().join('\u0000');
        if (!reportedCycles.has(key)) {
          reportedCycles.add(key);
          problems.push({ role, field: 'inherits', message: `roles inherit in a cycle: ${cycle.join(' -> ')}` });
        }
        continue;
      }
      for (const r of visit(parent, stack)) mine.add(r);
    }
    stack.pop();
    state.set(role, 'done');
    closure.set(role, mine);
    return mine;
  };
  for (const role of roles.keys()) visit(role, []);

  const permissions = new Map<string, ReadonlySet<string>>();
  for (const [role, members] of closure) {
    const perms = new Set<string>();
    for (const member of members) for (const p of roles.get(member)?.permissions ?? []) perms.add(p);
    permissions.set(role, perms);
  }
  return { permissions, closure, problems };
}

export type PermissionsFor = (roles: readonly string[]) => ReadonlySet<string>;

const EMPTY: ReadonlySet<string> = new Set<string>();

/**
 * Build the hot-path lookup `permissionsFor(tokenRoles)`. Results are cached per role combination (order
 * and duplicates ignored) in a bounded LRU map: tokens carry few distinct combinations, but the roles come
 * from the token, so the cache must not grow without bound. Roles unknown to the policy grant nothing.
 * The returned sets are shared: treat them as read-only (the type says so).
 */
export function createPermissionResolver(expanded: ReadonlyMap<string, ReadonlySet<string>>, maxEntries = 1024): PermissionsFor {
  const cache = new Map<string, ReadonlySet<string>>();
  return (roles) => {
    if (roles.length === 0) return EMPTY;
    if (roles.length === 1) return expanded.get(roles[0] as string) ?? EMPTY;
    const key = roles.length === 2 ? pairKey(roles[0] as string, roles[1] as string) : [...roles].sort().join('\n');
    const hit = cache.get(key);
    if (hit !== undefined) {
      // LRU: move to the back.
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const set = new Set<string>();
    for (const role of roles) for (const p of expanded.get(role) ?? EMPTY) set.add(p);
    if (cache.size >= maxEntries) {
      const oldest = cache.keys().next();
      if (oldest.done !== true) cache.delete(oldest.value);
    }
    cache.set(key, set);
    return set;
  };
}

function pairKey(a: string, b: string): string {
  return a < b ? a + '\n' + b : b + '\n' + a;
}
