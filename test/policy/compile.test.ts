// compilePolicy: every problem kind (reported all at once, with path and line), shadow detection, the
// resolved CompiledRoute fields, defaults, identity header names and immutability.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { compilePolicy, formatProblem, loadPolicyFile } from '../../core/policy/compile.js';
import type { PolicyProblem } from '../../core/policy/types.js';

const HEAD = `version: 1
upstreams: { app: "http://127.0.0.1:4000" }
roles:
  viewer: { permissions: [orders:read] }
  editor: { inherits: [viewer], permissions: [orders:write] }
`;
const withRoutes = (routes: string, extra = '') => `${HEAD}${extra}routes:\n${routes}`;
const errors = (ps: readonly PolicyProblem[]) => ps.filter((p) => p.severity === 'error');

function problemsOf(text: string): readonly PolicyProblem[] {
  const r = compilePolicy(text);
  if (errors(r.problems).length > 0) t.equal(r.policy, undefined, 'no policy when there are errors');
  return r.problems;
}

t.test('each problem kind, one policy at a time', async (t) => {
  const cases: [what: string, text: string, path: string, message: RegExp, route?: string][] = [
    ['YAML syntax', 'version: 1\nroutes: [\n', '', /^YAML: /],
    ['duplicate YAML key', 'version: 1\nversion: 1\nroutes: []\n', '', /YAML: .*unique/i],
    ['not a mapping', '- a\n- b\n', '', /must be a mapping/],
    ['wrong version', 'version: 2\nroutes: []\n', 'version', /version must be 1/],
    ['missing version', 'routes: []\n', 'version', /required/],
    ['unknown top-level key', `${HEAD}rotues: []\nroutes: []\n`, 'rotues', /unknown key "rotues"/],
    ['missing routes', HEAD, 'routes', /required/],
    ['upstream scheme', 'version: 1\nupstreams: { x: "ftp://h" }\nroutes: []\n', 'upstreams.x', /http or https/],
    ['upstream not a URL', 'version: 1\nupstreams: { x: "not a url" }\nroutes: []\n', 'upstreams.x', /not a valid URL/],
    ['upstream with credentials', 'version: 1\nupstreams: { x: "http://u:p@h" }\nroutes: []\n', 'upstreams.x', /credentials/],
    ['bad role permission', 'version: 1\nroles: { r: { permissions: ["a:*:b"] } }\nroutes: []\n', 'roles.r.permissions[0]', /only as the whole last part/],
    ['unknown key in role', 'version: 1\nroles: { r: { perms: [a] } }\nroutes: []\n', 'roles.r.perms', /unknown key "perms"/],
    ['unknown inherited role', 'version: 1\nroles: { r: { inherits: [ghost] } }\nroutes: []\n', 'roles.r.inherits', /unknown role "ghost"/],
    ['inherits cycle', 'version: 1\nroles: { a: { inherits: [b] }, b: { inherits: [a] } }\nroutes: []\n', 'roles.b.inherits', /cycle: a -> b -> a/],
    ['unknown upstream', withRoutes('  - { name: r, match: { path: /x }, upstream: nope }\n'), 'routes[0].upstream', /unknown upstream "nope" \(known: app\)/, 'r'],
    ['missing upstream', withRoutes('  - { name: r, match: { path: /x } }\n'), 'routes[0].upstream', /required unless access is deny/, 'r'],
    ['unknown role in any_role', withRoutes('  - { name: r, match: { path: /x }, upstream: app, require: { any_role: [viewer, ghost] } }\n'), 'routes[0].require.any_role[1]', /unknown role "ghost"/, 'r'],
    ['** not last', withRoutes('  - { name: r, match: { path: "/a/**/b" }, upstream: app }\n'), 'routes[0].match.path', /must be the last segment/, 'r'],
    ['empty param', withRoutes('  - { name: r, match: { path: "/a/:" }, upstream: app }\n'), 'routes[0].match.path', /empty parameter name/, 'r'],
    ['duplicate param', withRoutes('  - { name: r, match: { path: "/a/:id/b/:id" }, upstream: app }\n'), 'routes[0].match.path', /duplicate parameter name ":id"/, 'r'],
    ['bad host', withRoutes('  - { name: r, match: { path: /a, host: "*.com" }, upstream: app }\n'), 'routes[0].match.host', /too wide/, 'r'],
    ['duplicate route name', withRoutes('  - { name: r, match: { path: /a }, upstream: app }\n  - { name: r, match: { path: /b }, upstream: app }\n'), 'routes[1].name', /duplicate route name "r" \(first used by routes\[0\]\)/, 'r'],
    ['tenant_param not in path', withRoutes('  - { name: r, match: { path: "/t/:org/**" }, upstream: app, require: { tenant_param: tenant } }\n'), 'routes[0].require.tenant_param', /"tenant" is not a parameter of path "\/t\/:org\/\*\*" \(it has :org\)/, 'r'],
    ['default names unknown route', withRoutes('  - { name: r, match: { path: /a }, upstream: app }\n', 'default: nope\n'), 'default', /no route is named "nope"/],
    ['default route uses tenant_param', withRoutes('  - { name: r, match: { path: "/t/:t" }, upstream: app, require: { tenant_param: t } }\n', 'default: r\n'), 'default', /uses tenant_param/, 'r'],
    ['typo in route key (strict)', withRoutes('  - { name: r, match: { path: /a }, upstream: app, requires: { any_role: [viewer] } }\n'), 'routes[0].requires', /unknown key "requires"/, 'r'],
    ['typo in match key', withRoutes('  - { name: r, match: { paths: /a }, upstream: app }\n'), 'routes[0].match.paths', /unknown key/, 'r'],
    ['bad access', withRoutes('  - { name: r, match: { path: /a }, upstream: app, access: open }\n'), 'routes[0].access', /public/, 'r'],
    ['require on a public route', withRoutes('  - { name: r, match: { path: /a }, upstream: app, access: public, require: { any_role: [viewer] } }\n'), 'routes[0].require', /no effect on a public route/, 'r'],
    ['bad duration', withRoutes('  - { name: r, match: { path: /a }, upstream: app, rate_limit: { points: 5, per: 1w } }\n'), 'routes[0].rate_limit.per', /duration/, 'r'],
    ['zero points', withRoutes('  - { name: r, match: { path: /a }, upstream: app, rate_limit: { points: 0, per: 60 } }\n'), 'routes[0].rate_limit.points', /greater than 0/, 'r'],
    ['bad rate-limit key', withRoutes('  - { name: r, match: { path: /a }, upstream: app, rate_limit: { points: 1, per: 60, by: session } }\n'), 'routes[0].rate_limit.by', /ip/, 'r'],
    ['empty methods', withRoutes('  - { name: r, match: { path: /a, methods: [] }, upstream: app }\n'), 'routes[0].match.methods', /at least one method/, 'r'],
    ['missing path', withRoutes('  - { name: r, match: { methods: [GET] }, upstream: app }\n'), 'routes[0].match.path', /required/, 'r'],
    ['identity prefix too wide', withRoutes('  - { name: r, match: { path: /a }, upstream: app }\n', 'identity_headers: { prefix: "X-" }\n'), 'identity_headers.prefix', /would strip the "x-forwarded-for" header/],
    ['identity header collision', withRoutes('  - { name: r, match: { path: /a }, upstream: app }\n', 'identity_headers: { email: X-Auth-User-Id }\n'), 'identity_headers.email', /also used for user_id/],
    ['identity header protected', withRoutes('  - { name: r, match: { path: /a }, upstream: app }\n', 'identity_headers: { user_id: Authorization }\n'), 'identity_headers.user_id', /cannot be "authorization"/],
  ];
  for (const [what, text, at, message, route] of cases) {
    const ps = errors(problemsOf(text));
    const hit = ps.find((p) => p.path === at && message.test(p.message));
    t.ok(hit, `${what}: error at "${at}" matching ${message}`, { problems: ps });
    if (hit && route !== undefined) t.equal(hit.route, route, `${what}: route name`);
    if (hit && at !== '') t.type(hit.line, 'number', `${what}: has a line`);
  }
});

t.test('all problems are reported at once, in source order, with lines', async (t) => {
  const text = `version: 1
upstreams: { app: "http://127.0.0.1:4000", bad: "ftp://x" }
roles:
  a: { inherits: [b] }
  b: { inherits: [a, ghost] }
default: missing
routes:
  - name: one
    match: { path: "/a/**/b" }
    upstream: zz
  - name: one
    match: { path: "/t/:", host: "a*.com" }
    upstream: app
    require: { any_role: [nobody] }
  - name: wide
    match: { path: "/api/**" }
    upstream: app
  - name: narrow
    match: { path: "/api/orders/:id", methods: [get] }
    upstream: app
`;
  const r = compilePolicy(text, { sourceName: 'p.yaml' });
  t.equal(r.policy, undefined);
  const es = errors(r.problems);
  const expected = [/http or https/, /cycle/, /unknown role "ghost"/, /no route is named "missing"/, /"\*\*" must be the last/, /unknown upstream "zz"/, /duplicate route name/, /empty parameter name/, /invalid label/, /unknown role "nobody"/, /"narrow" can never match/];
  for (const re of expected) t.ok(es.some((p) => re.test(p.message)), `reports ${re}`);
  t.ok(es.length >= expected.length);
  const lines = r.problems.map((p) => p.line ?? 0);
  t.same(lines, [...lines].sort((a, b) => a - b), 'sorted by line');
  t.equal(es.find((p) => /unknown upstream "zz"/.test(p.message))?.line, 10);
  t.match(formatProblem(es.find((p) => /unknown upstream/.test(p.message))!, 'p.yaml'), /^p\.yaml:10: error: routes\[0\]\.upstream: unknown upstream "zz"/);
});

t.test('warnings do not prevent compiling', async (t) => {
  const text = withRoutes(`  - { name: r, match: { path: "/x" }, access: deny, upstream: app, require: { any_role: [viewer] } }
  - { name: p, match: { path: "/p" }, upstream: app, access: public, rate_limit: { points: 1, per: 1, by: user } }
  - { name: w, match: { path: "/w" }, upstream: app, require: { permissions: ["orders:*"] } }
`).replace('upstreams: { app: "http://127.0.0.1:4000" }', 'upstreams: { app: "http://127.0.0.1:4000", spare: "http://h" }');
  const r = compilePolicy(text);
  t.ok(r.policy, JSON.stringify(r.problems));
  const ws = r.problems.filter((p) => p.severity === 'warning').map((p) => p.message);
  t.ok(ws.some((m) => /ignored on an access: deny route/.test(m)));
  t.ok(ws.some((m) => /rate_limit by user on a public route/.test(m)));
  t.ok(ws.some((m) => /requiring the wildcard "orders:\*"/.test(m)));
  t.ok(ws.some((m) => /"spare" is not used/.test(m)));
});

t.test('shadowed routes', async (t) => {
  const shadowCases: [what: string, routes: string, shadowed: string | null, by?: RegExp][] = [
    ['** covers a param route', '  - { name: wide, match: { path: "/api/**" }, upstream: app }\n  - { name: narrow, match: { path: "/api/orders/:id" }, upstream: app }\n', 'narrow', /"wide"/],
    ['* covers :x', '  - { name: star, match: { path: "/a/*" }, upstream: app }\n  - { name: param, match: { path: "/a/:x" }, upstream: app }\n', 'param', /"star"/],
    [':x covers *', '  - { name: param, match: { path: "/a/:x" }, upstream: app }\n  - { name: star, match: { path: "/a/*" }, upstream: app }\n', 'star', /"param"/],
    ['identical route', '  - { name: a, match: { path: "/a" }, upstream: app }\n  - { name: b, match: { path: "/a/" }, upstream: app }\n', 'b', /"a"/],
    ['/** covers everything', '  - { name: all, match: { path: "/**" }, upstream: app }\n  - { name: x, match: { path: "/x", methods: [GET], host: a.example.com }, upstream: app }\n', 'x', /"all"/],
    ['wider methods', '  - { name: a, match: { path: "/a/**", methods: [GET, POST] }, upstream: app }\n  - { name: b, match: { path: "/a/b", methods: [POST] }, upstream: app }\n', 'b', /"a"/],
    ['methods covered by two routes together', '  - { name: g, match: { path: "/a/**", methods: [GET] }, upstream: app }\n  - { name: p, match: { path: "/a/:x", methods: [POST] }, upstream: app }\n  - { name: b, match: { path: "/a/b", methods: [POST, GET] }, upstream: app }\n', 'b', /"g".*and.*"p"/],
    ['wildcard host covers exact host', '  - { name: a, match: { path: "/a", host: "*.example.com" }, upstream: app }\n  - { name: b, match: { path: "/a", host: "x.y.example.com" }, upstream: app }\n', 'b', /"a"/],
    ['any host covers a host', '  - { name: a, match: { path: "/a" }, upstream: app }\n  - { name: b, match: { path: "/a", host: "x.example.com" }, upstream: app }\n', 'b', /"a"/],
    ['deny route shadows too', '  - { name: a, match: { path: "/admin/**" }, access: deny }\n  - { name: b, match: { path: "/admin/users" }, upstream: app }\n', 'b', /"a"/],
    // negatives
    ['later wider route is not shadowed (only later ones are reported)', '  - { name: narrow, match: { path: "/api/orders/:id" }, upstream: app }\n  - { name: wide, match: { path: "/api/**" }, upstream: app }\n', null],
    ['narrower methods earlier', '  - { name: a, match: { path: "/a/**", methods: [GET] }, upstream: app }\n  - { name: b, match: { path: "/a/b" }, upstream: app }\n', null],
    ['methods only partly covered', '  - { name: a, match: { path: "/a/**", methods: [GET] }, upstream: app }\n  - { name: b, match: { path: "/a/b", methods: [GET, DELETE] }, upstream: app }\n', null],
    ['literal does not cover param', '  - { name: a, match: { path: "/a/b" }, upstream: app }\n  - { name: b, match: { path: "/a/:x" }, upstream: app }\n', null],
    ['* does not cover **', '  - { name: a, match: { path: "/a/*" }, upstream: app }\n  - { name: b, match: { path: "/a/**" }, upstream: app }\n', null],
    ['host-restricted earlier route', '  - { name: a, match: { path: "/**", host: api.example.com }, upstream: app }\n  - { name: b, match: { path: "/x" }, upstream: app }\n', null],
    ['wildcard host does not cover apex', '  - { name: a, match: { path: "/x", host: "*.example.com" }, upstream: app }\n  - { name: b, match: { path: "/x", host: example.com }, upstream: app }\n', null],
    ['different literal', '  - { name: a, match: { path: "/a/**" }, upstream: app }\n  - { name: b, match: { path: "/ab" }, upstream: app }\n', null],
  ];
  for (const [what, routes, shadowed, by] of shadowCases) {
    const r = compilePolicy(withRoutes(routes));
    const shadowProblems = r.problems.filter((p) => /can never match/.test(p.message));
    if (shadowed === null) {
      t.same(shadowProblems, [], what);
      t.ok(r.policy, `${what}: compiles`);
    } else {
      t.equal(shadowProblems.length, 1, what);
      t.equal(shadowProblems[0]?.route, shadowed, `${what}: names the later route`);
      t.equal(shadowProblems[0]?.severity, 'error');
      if (by) t.match(shadowProblems[0]?.message, by, `${what}: names the earlier route`);
      t.equal(r.policy, undefined);
    }
  }
});

t.test('resolved routes and defaults', async (t) => {
  const r = compilePolicy(withRoutes(`  - { name: pub, match: { path: /health, methods: [get, Head] }, upstream: app, access: public }
  - name: full
    match: { path: "/t/:tenant/**", host: "API.example.com" }
    upstream: app
    require: { any_role: [viewer], permissions: [orders:read], tenant_param: tenant }
    rate_limit: { points: 10, per: 1m, by: tenant }
    mode: shadow
    login: redirect
    headers: { token: true }
  - { name: implied, match: { path: /i }, upstream: app }
  - { name: req-implied, match: { path: /r }, upstream: app, require: { any_role: [editor] } }
  - { name: gone, match: { path: /g }, access: deny }
`));
  const p = r.policy!;
  t.ok(p, JSON.stringify(r.problems));
  const [pub, full, implied, reqImplied, gone] = p.routes;
  t.same([...pub!.methods!], ['GET', 'HEAD'], 'methods upper-cased');
  t.equal(pub!.access, 'public');
  t.equal(pub!.rateLimit, null);
  t.equal(pub!.mode, 'enforce');
  t.equal(pub!.login, 'none');
  t.equal(pub!.forwardToken, false);
  t.equal(full!.methods, null);
  t.same(full!.host, { kind: 'exact', source: 'API.example.com', host: 'api.example.com' });
  t.equal(full!.access, 'authenticated', 'require without access → authenticated');
  t.same(full!.requireAnyRole, ['viewer']);
  t.same([...full!.acceptedRoles].sort(), ['editor', 'viewer'], 'roles inheriting viewer are accepted');
  t.same(full!.requirePermissions, ['orders:read']);
  t.equal(full!.tenantParam, 'tenant');
  t.same(full!.rateLimit, { points: 10, durationSeconds: 60, by: 'tenant' });
  t.equal(full!.mode, 'shadow');
  t.equal(full!.login, 'redirect');
  t.equal(full!.forwardToken, true);
  t.equal(full!.upstream, 'app');
  t.equal(full!.upstreamUrl?.href, 'http://127.0.0.1:4000/');
  t.equal(full!.index, 1);
  t.equal(implied!.access, 'authenticated', 'neither access nor require → authenticated (secure default)');
  t.equal(reqImplied!.access, 'authenticated');
  t.equal(gone!.access, 'deny');
  t.equal(gone!.upstream, null);
  t.equal(gone!.upstreamUrl, null);
  t.equal(p.defaultRoute, null);
  t.equal(p.version, 1);
  t.equal(p.upstreams.get('app')?.host, '127.0.0.1:4000');
  t.same([...p.roles.get('editor')!].sort(), ['orders:read', 'orders:write']);
});

t.test('durations', async (t) => {
  const per = (v: string) => compilePolicy(withRoutes(`  - { name: r, match: { path: /a }, upstream: app, rate_limit: { points: 1, per: ${v} } }\n`)).policy?.routes[0]?.rateLimit?.durationSeconds;
  t.equal(per('60'), 60);
  t.equal(per('"60"'), 60);
  t.equal(per('60s'), 60);
  t.equal(per('1m'), 60);
  t.equal(per('1h'), 3600);
  t.equal(per('1d'), 86400);
  t.equal(per('0'), undefined);
  t.equal(per('1.5'), undefined);
  t.equal(per('-1s'), undefined);
});

t.test('identity header names', async (t) => {
  const def = compilePolicy(withRoutes('  - { name: r, match: { path: /a }, upstream: app }\n')).policy!.identityHeaders;
  t.match(def, { prefix: 'X-Auth-', stripPrefix: 'x-auth-', userId: 'X-Auth-User-Id', email: 'X-Auth-Email', roles: 'X-Auth-Roles', permissions: 'X-Auth-Permissions', tenant: 'X-Auth-Tenant', sessionId: 'X-Auth-Session-Id', token: 'X-Auth-Token' });
  t.ok(def.all.includes('x-auth-user-id'));
  const custom = compilePolicy(withRoutes('  - { name: r, match: { path: /a }, upstream: app }\n', 'identity_headers: { prefix: X-Gate-, user_id: X-User, tenant: X_Org }\n')).policy!.identityHeaders;
  t.equal(custom.userId, 'X-User');
  t.equal(custom.email, 'X-Gate-Email');
  t.equal(custom.stripPrefix, 'x-gate-');
  t.ok(custom.all.includes('x-user'), 'names outside the prefix are listed for stripping');
  t.ok(custom.all.includes('x-org'), 'normalised: _ → -');
});

t.test('the compiled policy is immutable', async (t) => {
  const p = compilePolicy(withRoutes('  - { name: r, match: { path: /a, methods: [GET] }, upstream: app, require: { any_role: [viewer] } }\n')).policy!;
  t.ok(Object.isFrozen(p));
  t.ok(Object.isFrozen(p.routes));
  t.ok(Object.isFrozen(p.routes[0]));
  t.ok(Object.isFrozen(p.routes[0]!.pattern));
  t.ok(Object.isFrozen(p.routes[0]!.requireAnyRole));
  t.ok(Object.isFrozen(p.identityHeaders));
  t.throws(() => (p.upstreams as Map<string, URL>).set('x', new URL('http://evil')), TypeError);
  t.throws(() => (p.roles as Map<string, ReadonlySet<string>>).delete('viewer'), TypeError);
  t.throws(() => (p.roles.get('viewer') as Set<string>).add('*'), TypeError);
  t.throws(() => (p.routes[0]!.methods as Set<string>).add('POST'), TypeError);
  t.throws(() => (p.routes[0]!.acceptedRoles as Set<string>).add('anyone'), TypeError);
  t.throws(() => {
    (p.routes as unknown as unknown[]).push({});
  });
});

t.test('never throws on garbage', async (t) => {
  for (const text of ['', '~', '42', '"x"', '[1,2]', 'version: 1\nroutes: 7\n', 'version: 1\nroutes: [7, null, "x"]\n', 'version: 1\nupstreams: [a]\nroles: 5\nroutes: []\n', 'a: &a [*a]\n', '\t\t:::']) {
    const r = compilePolicy(text);
    t.equal(r.policy, undefined, JSON.stringify(text));
    t.ok(errors(r.problems).length > 0);
  }
  t.ok(compilePolicy('version: 1\nroutes: []\n').policy, 'an empty route list is valid (everything is denied)');
});

t.test('loadPolicyFile', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'authgate-policy-'));
  const file = path.join(dir, 'p.yaml');
  await writeFile(file, withRoutes('  - { name: r, match: { path: /a }, upstream: app }\n'));
  const ok = await loadPolicyFile(file);
  t.ok(ok.policy);
  t.equal(ok.policy?.sourceName, file);
  const missing = await loadPolicyFile(path.join(dir, 'nope.yaml'));
  t.equal(missing.policy, undefined);
  t.match(missing.problems[0]?.message, /cannot read .*nope\.yaml: ENOENT/);
});
