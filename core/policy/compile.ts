// Compiles policies.yaml text into an immutable CompiledPolicy, collecting every problem (schema,
// cross-references, patterns, shadowed routes) in one pass. The server's load/reload and
// `authctl policies check` both call this, so they can never disagree.

import { readFile } from 'node:fs/promises';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { freezeMap, freezeSet } from './immutable.js';
import { compileHostPattern, compilePathPattern, hostCovers, type HostPattern, type PathPattern } from './pattern.js';
import { checkPermissionSyntax, createPermissionResolver, expandRoles, type RoleDefinition } from './permissions.js';
import {
  identityHeadersSchema,
  policyTopLevelSchema,
  roleSchema,
  routeSchema,
  upstreamUrlSchema,
  type IdentityHeadersInput,
  type RouteInput,
} from './policy.schema.js';
import { RouteTable } from './route-table.js';
import type { CompiledPolicy, CompiledRoute, IdentityHeaderNames, PolicyProblem, Severity } from './types.js';

export interface CompileOptions {
  /** File name used in messages (default `policies.yaml`). */
  readonly sourceName?: string;
  /** Size of the permissionsFor cache (role combinations). */
  readonly permissionCacheSize?: number;
}

export interface CompilePolicyResult {
  /** Present only when there is no error-severity problem. */
  readonly policy?: CompiledPolicy;
  readonly problems: readonly PolicyProblem[];
}

type PathKey = string | number;

/** Collects problems, locating each in the YAML source for its line number. */
class Problems {
  readonly list: PolicyProblem[] = [];
  constructor(
    private readonly doc: Document | null,
    private readonly lines: LineCounter,
  ) {}

  add(severity: Severity, at: readonly PathKey[], message: string, route?: string): void {
    const line = this.lineOf(at);
    this.list.push({
      severity,
      ...(route === undefined ? {} : { route }),
      path: formatPath(at),
      ...(line === undefined ? {} : { line }),
      message,
    });
  }

  error(at: readonly PathKey[], message: string, route?: string): void {
    this.add('error', at, message, route);
  }

  warning(at: readonly PathKey[], message: string, route?: string): void {
    this.add('warning', at, message, route);
  }

  /** Zod issues of a value found at `base`. */
  zod(base: readonly PathKey[], error: z.ZodError, route?: string): void {
    for (const issue of error.issues) {
      const at = [...base, ...issue.path];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.error([...at, key], `unknown key "${key}"`, route);
      } else if (issue.code === 'invalid_type' && issue.received === 'undefined') {
        this.error(at, 'is required', route);
      } else {
        this.error(at, issue.message, route);
      }
    }
  }

  get hasErrors(): boolean {
    return this.list.some((p) => p.severity === 'error');
  }

  private lineOf(at: readonly PathKey[]): number | undefined {
    if (this.doc === null) return undefined;
    // The deepest existing node on the path (a missing key is reported at its parent).
    for (let n = at.length; n >= 0; n--) {
      const node: unknown = n === 0 ? this.doc.contents : this.doc.getIn(at.slice(0, n), true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return undefined;
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `routes[3].match.path`, `upstreams["my.app"]`. */
export function formatPath(at: readonly PathKey[]): string {
  let out = '';
  for (const key of at) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (IDENT.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** One line per problem, the way `authctl policies check` and the reload log print them. */
export function formatProblem(problem: PolicyProblem, sourceName = 'policies.yaml'): string {
  const where = problem.line === undefined ? sourceName : `${sourceName}:${problem.line}`;
  const path = problem.path === '' ? '' : ` ${problem.path}:`;
  return `${where}: ${problem.severity}:${path} ${problem.message}`;
}

// Headers a misconfigured identity prefix or name must never cover: they would be stripped from every
// request (or forged by authgate) — Host, credentials, framing, and the forwarding headers we set.
const PROTECTED_HEADERS = [
  'host', 'authorization', 'proxy-authorization', 'cookie', 'content-length', 'content-type', 'transfer-encoding',
  'connection', 'upgrade', 'te', 'trailer', 'expect', 'forwarded', 'x-forwarded-for', 'x-forwarded-proto',
  'x-forwarded-host', 'x-real-ip', 'user-agent', 'accept',
];

const normalizeHeaderName = (name: string): string => name.toLowerCase().replaceAll('_', '-');

interface RouteDraft {
  readonly index: number;
  readonly input: RouteInput;
  readonly pattern: PathPattern | null;
  readonly host: HostPattern | null | undefined; // undefined: invalid
}

/**
 * Compile policies.yaml. Never throws for mistakes in the text: every problem found is returned (with the
 * YAML path and line), and `policy` is present only when none of them is an error.
 */
export function compilePolicy(yamlText: string, options: CompileOptions = {}): CompilePolicyResult {
  const sourceName = options.sourceName ?? 'policies.yaml';
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const problems = new Problems(doc, lines);
  for (const err of doc.errors) {
    problems.list.push({ severity: 'error', path: '', line: lines.linePos(err.pos[0]).line, message: `YAML: ${firstLine(err.message)}` });
  }
  for (const warn of doc.warnings) {
    problems.list.push({ severity: 'warning', path: '', line: lines.linePos(warn.pos[0]).line, message: `YAML: ${firstLine(warn.message)}` });
  }
  if (doc.errors.length > 0) return { problems: freezeProblems(problems.list) };

  let raw: unknown;
  try {
    // maxAliasCount bounds alias expansion ("billion laughs").
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    problems.error([], `YAML: ${err instanceof Error ? err.message : String(err)}`);
    return { problems: freezeProblems(problems.list) };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.error([], 'the policy file must be a mapping with version, upstreams, roles, default and routes');
    return { problems: freezeProblems(problems.list) };
  }
  const top = raw as Record<string, unknown>;

  // ---- top level, field by field so one bad field does not hide the others
  const shape = policyTopLevelSchema.shape;
  for (const key of Object.keys(top)) {
    if (!(key in shape)) problems.error([key], `unknown key "${key}"`);
  }
  const version = shape.version.safeParse(top.version);
  if (!version.success) problems.error(['version'], top.version === undefined ? 'is required (version: 1)' : 'version must be 1');
  const defaultParsed = shape.default.safeParse(top.default);
  if (!defaultParsed.success) problems.zod(['default'], defaultParsed.error);
  const defaultName = defaultParsed.success ? defaultParsed.data : 'deny';
  const headersParsed = identityHeadersSchema.default({}).safeParse(top.identity_headers);
  if (!headersParsed.success) problems.zod(['identity_headers'], headersParsed.error);
  const identityHeaders = resolveIdentityHeaders(headersParsed.success ? headersParsed.data : { prefix: 'X-Auth-' }, problems);

  // ---- upstreams
  const upstreams = new Map<string, URL>();
  const knownUpstreams = new Set<string>(); // includes invalid ones, to avoid cascades of "unknown upstream"
  for (const [name, value] of entriesOf(top.upstreams, ['upstreams'], problems)) {
    knownUpstreams.add(name);
    const parsed = shape.upstreams.safeParse({ [name]: value });
    if (!parsed.success) {
      problems.zod(['upstreams'], parsed.error);
      continue;
    }
    if (upstreamUrlSchema.safeParse(value).success) upstreams.set(name, Object.freeze(new URL(value as string)));
  }

  // ---- roles
  const roleDefs = new Map<string, RoleDefinition>();
  for (const [name, value] of entriesOf(top.roles, ['roles'], problems)) {
    const nameOk = shape.roles.safeParse({ [name]: null });
    if (!nameOk.success) problems.zod(['roles'], nameOk.error);
    const parsed = roleSchema.nullable().safeParse(value);
    if (!parsed.success) {
      problems.zod(['roles', name], parsed.error);
      roleDefs.set(name, { permissions: [], inherits: [] });
      continue;
    }
    const def = parsed.data ?? { permissions: [], inherits: [] };
    def.permissions.forEach((p, i) => {
      const why = checkPermissionSyntax(p);
      if (why !== null) problems.error(['roles', name, 'permissions', i], why);
    });
    roleDefs.set(name, def);
  }
  const expanded = expandRoles(roleDefs);
  for (const p of expanded.problems) problems.error(['roles', p.role, p.field], p.message);

  // ---- routes: schema and per-route references
  const drafts: RouteDraft[] = [];
  const seenNames = new Map<string, number>();
  const usedUpstreams = new Set<string>();
  if (top.routes === undefined) problems.error(['routes'], 'is required (a list of routes)');
  else if (!Array.isArray(top.routes)) problems.error(['routes'], 'routes must be a list');
  const rawRoutes: unknown[] = Array.isArray(top.routes) ? top.routes : [];
  rawRoutes.forEach((rawRoute, index) => {
    const at = ['routes', index] as const;
    const rawName = isRecord(rawRoute) && typeof rawRoute.name === 'string' ? rawRoute.name : undefined;
    if (rawName !== undefined) {
      const first = seenNames.get(rawName);
      if (first !== undefined) problems.error([...at, 'name'], `duplicate route name "${rawName}" (first used by routes[${first}])`, rawName);
      else seenNames.set(rawName, index);
    }
    const parsed = routeSchema.safeParse(rawRoute);
    if (!parsed.success) {
      problems.zod(at, parsed.error, rawName);
      return;
    }
    const r = parsed.data;
    const access = r.access ?? 'authenticated';

    const pattern = compilePathPattern(r.match.path);
    if (!pattern.ok) for (const e of pattern.errors) problems.error([...at, 'match', 'path'], e, r.name);
    let host: HostPattern | null | undefined = null;
    if (r.match.host !== undefined) {
      const h = compileHostPattern(r.match.host);
      if (h.ok) host = h.value;
      else {
        host = undefined;
        for (const e of h.errors) problems.error([...at, 'match', 'host'], e, r.name);
      }
    }

    if (r.upstream === undefined) {
      if (access !== 'deny') problems.error([...at, 'upstream'], 'upstream is required unless access is deny', r.name);
    } else {
      usedUpstreams.add(r.upstream);
      if (!knownUpstreams.has(r.upstream)) problems.error([...at, 'upstream'], `unknown upstream "${r.upstream}"${known(knownUpstreams)}`, r.name);
    }

    const req = r.require;
    if (req !== undefined && access === 'public') {
      problems.error([...at, 'require'], 'require has no effect on a public route: remove "access: public" or the require block', r.name);
    }
    if (req !== undefined && access === 'deny') problems.warning([...at, 'require'], 'require is ignored on an access: deny route', r.name);
    req?.any_role?.forEach((role, i) => {
      if (!roleDefs.has(role)) problems.error([...at, 'require', 'any_role', i], `unknown role "${role}"${known(roleDefs.keys())}`, r.name);
    });
    req?.permissions?.forEach((p, i) => {
      const why = checkPermissionSyntax(p);
      if (why !== null) problems.error([...at, 'require', 'permissions', i], why, r.name);
      else if (p.endsWith('*')) {
        problems.warning([...at, 'require', 'permissions', i], `requiring the wildcard "${p}" itself: only roles granted "${p}" or a wider wildcard satisfy it`, r.name);
      }
    });
    if (req?.tenant_param !== undefined && pattern.ok && !pattern.value.paramNames.includes(req.tenant_param)) {
      const have = pattern.value.paramNames.length === 0 ? 'it has no parameters' : `it has ${pattern.value.paramNames.map((n) => `:${n}`).join(', ')}`;
      problems.error([...at, 'require', 'tenant_param'], `tenant_param "${req.tenant_param}" is not a parameter of path "${r.match.path}" (${have})`, r.name);
    }
    if (r.rate_limit !== undefined && access === 'public' && (r.rate_limit.by === 'user' || r.rate_limit.by === 'tenant')) {
      problems.warning([...at, 'rate_limit', 'by'], `rate_limit by ${r.rate_limit.by} on a public route: anonymous requests have no ${r.rate_limit.by}`, r.name);
    }
    drafts.push({ index, input: r, pattern: pattern.ok ? pattern.value : null, host });
  });

  for (const name of knownUpstreams) {
    if (!usedUpstreams.has(name)) problems.warning(['upstreams', name], `upstream "${name}" is not used by any route`);
  }

  // ---- build routes (only those whose patterns compiled) and the table
  const routes: CompiledRoute[] = [];
  for (const d of drafts) {
    if (d.pattern === null || d.host === undefined) continue;
    routes.push(buildRoute(d, d.pattern, d.host, upstreams, expanded.closure));
  }
  const table = new RouteTable<CompiledRoute>(routes);
  reportShadowed(routes, table, problems);

  // ---- default
  let defaultRoute: CompiledRoute | null = null;
  if (defaultName !== 'deny') {
    const found = routes.find((r) => r.name === defaultName);
    if (found === undefined) {
      if (!seenNames.has(defaultName)) problems.error(['default'], `default must be "deny" or a route name; no route is named "${defaultName}"`);
    } else if (found.tenantParam !== null) {
      problems.error(['default'], `default route "${defaultName}" uses tenant_param, but unmatched requests have no path parameters`, defaultName);
    } else {
      defaultRoute = found;
    }
  } else if (seenNames.has('deny')) {
    problems.warning(['default'], '"default: deny" means deny, not the route named "deny"');
  }

  if (problems.hasErrors) return { problems: freezeProblems(problems.list) };

  const frozenRoles = new Map<string, ReadonlySet<string>>();
  for (const [role, perms] of expanded.permissions) frozenRoles.set(role, freezeSet(new Set(perms)));
  const permissionsFor = createPermissionResolver(frozenRoles, options.permissionCacheSize);
  const routeList = Object.freeze(routes);
  const policy: CompiledPolicy = Object.freeze({
    version: 1 as const,
    sourceName,
    upstreams: freezeMap(upstreams),
    roles: freezeMap(frozenRoles),
    routes: routeList,
    defaultRoute,
    identityHeaders,
    table,
    permissionsFor,
    match: matcher(table, defaultRoute),
  });
  return { policy, problems: freezeProblems(problems.list) };
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

/**
 * The policy's lookup, built outside compilePolicy on purpose: a closure created there shares V8's
 * context with the compile-time closures and kept the whole parsed YAML document (and the problem list)
 * alive for the policy's lifetime — 66 MB for 10,000 routes (issue 9: GC cost per request).
 */
function matcher(table: RouteTable<CompiledRoute>, defaultRoute: CompiledRoute | null): CompiledPolicy['match'] {
  return (method, host, path) => {
    const m = table.match(method, host, path);
    if (m !== null) return { route: m.route, params: m.params, isDefault: false };
    if (defaultRoute === null) return null;
    return { route: defaultRoute, params: NO_PARAMS, isDefault: true };
  };
}

/**
 * Read and compile a policy file. A missing or unreadable file is a problem, not an exception.
 */
export async function loadPolicyFile(file: string, options: Omit<CompileOptions, 'sourceName'> = {}): Promise<CompilePolicyResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String((err as NodeJS.ErrnoException).code) : String(err);
    return { problems: freezeProblems([{ severity: 'error', path: '', message: `cannot read ${file}: ${reason}` }]) };
  }
  return compilePolicy(text, { ...options, sourceName: file });
}

function buildRoute(
  d: RouteDraft,
  pattern: PathPattern,
  host: HostPattern | null,
  upstreams: ReadonlyMap<string, URL>,
  closure: ReadonlyMap<string, ReadonlySet<string>>,
): CompiledRoute {
  const r = d.input;
  const anyRole = r.require?.any_role ?? [];
  // A role satisfies `any_role: [viewer]` if it is viewer or inherits it (editor inherits viewer).
  const accepted = new Set<string>();
  for (const [role, members] of closure) if (anyRole.some((wanted) => members.has(wanted))) accepted.add(role);
  for (const wanted of anyRole) accepted.add(wanted);
  const upstream = r.upstream ?? null;
  return Object.freeze({
    index: d.index,
    name: r.name,
    methods: r.match.methods === undefined ? null : freezeSet(new Set(r.match.methods)),
    host,
    pattern,
    path: r.match.path,
    upstream,
    upstreamUrl: upstream === null ? null : (upstreams.get(upstream) ?? null),
    access: r.access ?? 'authenticated',
    requireAnyRole: Object.freeze([...anyRole]),
    acceptedRoles: freezeSet(accepted),
    requirePermissions: Object.freeze([...(r.require?.permissions ?? [])]),
    tenantParam: r.require?.tenant_param ?? null,
    rateLimit: r.rate_limit === undefined ? null : Object.freeze({ points: r.rate_limit.points, durationSeconds: r.rate_limit.per, by: r.rate_limit.by }),
    mode: r.mode,
    login: r.login,
    forwardToken: r.headers.token,
  });
}

/**
 * A route is shadowed when earlier routes together take every request it could match: each earlier
 * candidate must cover its path (table.coveringRoutes) and host, and the union of their methods must
 * include all of its methods (a method-less route needs a method-less cover). Only the later route is
 * reported, naming the earlier one(s).
 */
function reportShadowed(routes: readonly CompiledRoute[], table: RouteTable<CompiledRoute>, problems: Problems): void {
  for (const route of routes) {
    const covers = table.coveringRoutes(route.pattern).filter((a) => a.index < route.index && hostCovers(a.host, route.host));
    if (covers.length === 0) continue;
    let by: CompiledRoute[] | null = null;
    const anyMethod = covers.find((a) => a.methods === null);
    if (anyMethod !== undefined) by = [anyMethod];
    else if (route.methods !== null) {
      const needed: CompiledRoute[] = [];
      let all = true;
      for (const m of route.methods) {
        const a = covers.find((c) => c.methods?.has(m) === true);
        if (a === undefined) {
          all = false;
          break;
        }
        if (!needed.includes(a)) needed.push(a);
      }
      if (all) by = needed.sort((a, b) => a.index - b.index);
    }
    if (by === null) continue;
    const names = by.map((a) => `"${a.name}" (routes[${a.index}], ${a.path})`).join(' and ');
    problems.error(
      ['routes', route.index, 'match'],
      `route "${route.name}" can never match: earlier route${by.length > 1 ? 's' : ''} ${names} ${by.length > 1 ? 'take' : 'takes'} every request it matches`,
      route.name,
    );
  }
}

function resolveIdentityHeaders(input: IdentityHeadersInput, problems: Problems): IdentityHeaderNames {
  const prefix = input.prefix;
  const names = {
    userId: input.user_id ?? `${prefix}User-Id`,
    email: input.email ?? `${prefix}Email`,
    roles: input.roles ?? `${prefix}Roles`,
    permissions: input.permissions ?? `${prefix}Permissions`,
    tenant: input.tenant ?? `${prefix}Tenant`,
    sessionId: input.session_id ?? `${prefix}Session-Id`,
    token: input.token ?? `${prefix}Token`,
  };
  const stripPrefix = normalizeHeaderName(prefix);
  const all = Object.values(names).map(normalizeHeaderName);
  for (const h of PROTECTED_HEADERS) {
    if (h.startsWith(stripPrefix)) {
      problems.error(['identity_headers', 'prefix'], `prefix "${prefix}" would strip the "${h}" header from every request`);
      break;
    }
  }
  const keys = ['user_id', 'email', 'roles', 'permissions', 'tenant', 'session_id', 'token'] as const;
  const seen = new Map<string, string>();
  all.forEach((name, i) => {
    const key = keys[i] as string;
    if (PROTECTED_HEADERS.includes(name)) problems.error(['identity_headers', key], `identity header cannot be "${name}"`);
    const other = seen.get(name);
    if (other !== undefined) problems.error(['identity_headers', key], `header "${name}" is also used for ${other}`);
    seen.set(name, key);
  });
  return Object.freeze({ prefix, stripPrefix, ...names, all: Object.freeze(all) });
}

function entriesOf(value: unknown, at: readonly PathKey[], problems: Problems): [string, unknown][] {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) {
    problems.error(at, 'must be a mapping of name: value');
    return [];
  }
  return Object.entries(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function known(names: Iterable<string>): string {
  const list = [...names];
  return list.length === 0 ? ' (none defined)' : ` (known: ${list.join(', ')})`;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

/** In source order (stable for problems on the same line), frozen. */
function freezeProblems(list: PolicyProblem[]): readonly PolicyProblem[] {
  const sorted = [...list].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return Object.freeze(sorted.map((p) => Object.freeze(p)));
}
