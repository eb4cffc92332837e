// Table tests for path/host pattern compilation and the route trie: `*`, `**`, `:param`, host wildcards,
// methods, trailing slashes and first-match-in-file-order.
import t from 'tap';
import { compileHostPattern, compilePathPattern, hostCovers, hostMatches, pathCovers, type HostPattern, type PathPattern } from '../../core/policy/pattern.js';
import { RouteTable, type MatchableRoute } from '../../core/policy/route-table.js';

function path(source: string): PathPattern {
  const r = compilePathPattern(source);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.value;
}
function host(source: string): HostPattern {
  const r = compileHostPattern(source);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.value;
}

interface R extends MatchableRoute {
  name: string;
}
function table(defs: [name: string, pattern: string, opts?: { methods?: string[]; host?: string }][]): RouteTable<R> {
  return new RouteTable<R>(
    defs.map(([name, p, opts], index) => ({
      index,
      name,
      pattern: path(p),
      methods: opts?.methods ? new Set(opts.methods) : null,
      host: opts?.host ? host(opts.host) : null,
    })),
  );
}

t.test('path pattern compile errors', async (t) => {
  const bad: [string, RegExp][] = [
    ['api/x', /must start with/],
    ['/a/**/b', /"\*\*" must be the last segment/],
    ['/a/:', /empty parameter name/],
    ['/a/:x/:x', /duplicate parameter name ":x"/],
    ['/a/:1x', /invalid parameter name/],
    ['/a/*.json', /partial wildcard/],
    ['/a/b**', /partial wildcard/],
    ['/a//b', /empty segment/],
    ['/a/../b', /dot segment/],
    ['/%61dmin', /not in normalised form; write "admin"/],
    ['/a%2fb', /not a valid request path segment/],
    ['/a?x=1', /query/],
  ];
  for (const [src, re] of bad) {
    const r = compilePathPattern(src);
    t.notOk(r.ok, src);
    if (!r.ok) t.match(r.errors.join('\n'), re, src);
  }
  const multi = compilePathPattern('/**/:/x/:y/:y');
  t.notOk(multi.ok);
  if (!multi.ok) t.equal(multi.errors.length, 3, 'all problems of one pattern are reported');
  for (const ok of ['/', '/**', '/a/*', '/a/:id', '/a/b/', '/caf%C3%A9', '/a:b', '/t/:tenant/**']) t.ok(compilePathPattern(ok).ok, ok);
  t.same(path('/t/:tenant/x/:id').paramNames, ['tenant', 'id']);
  t.same(path('/t/:tenant/x/:id').paramPositions, [1, 3]);
});

t.test('host pattern compile', async (t) => {
  t.same(host('API.Example.com.'), { kind: 'exact', source: 'API.Example.com.', host: 'api.example.com' });
  t.same(host('*.example.com'), { kind: 'suffix', source: '*.example.com', suffix: '.example.com' });
  for (const bad of ['*.com', '*', 'a.*.com', 'a*.com', 'api.example.com:8080', 'http://x.com', '', 'a..b']) {
    t.notOk(compileHostPattern(bad).ok, bad);
  }
});

t.test('host matching', async (t) => {
  const cases: [string, string | null, boolean][] = [
    ['api.example.com', 'api.example.com', true],
    ['api.example.com', 'www.example.com', false],
    ['api.example.com', null, false],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'badexample.com', false],
    ['*.example.com', 'a.example.com.evil.net', false],
  ];
  for (const [p, h, want] of cases) t.equal(hostMatches(host(p), h), want, `${p} ~ ${h}`);
});

t.test('path matching through the table', async (t) => {
  const tb = table([
    ['root', '/'],
    ['health', '/health'],
    ['one', '/a/*'],
    ['param', '/u/:id/posts/:post'],
    ['rest', '/files/**'],
    ['mid', '/x/*/y'],
  ]);
  const cases: [string, string | null, Record<string, string>?][] = [
    ['/', 'root'],
    ['/health', 'health'],
    ['/health/', 'health'], // trailing slash not significant
    ['/healthz', null],
    ['/Health', null], // case-sensitive
    ['/a/b', 'one'],
    ['/a', null], // `*` needs a segment
    ['/a/', null],
    ['/a/b/c', null],
    ['/u/42/posts/7', 'param', { id: '42', post: '7' }],
    ['/u/42/posts', null],
    ['/files', 'rest'], // `**` matches nothing too
    ['/files/', 'rest'],
    ['/files/a/b/c.txt', 'rest'],
    ['/filesx', null],
    ['/x/1/y', 'mid'],
    ['/x/1/z', null],
  ];
  for (const [p, want, params] of cases) {
    const m = tb.match('GET', null, p);
    t.equal(m?.route.name ?? null, want, p);
    if (params) t.same({ ...m?.params }, params, `${p} params`);
  }
});

t.test('first route in file order wins, whichever trie branch it is on', async (t) => {
  const tb = table([
    ['p1', '/api/:x/items'],
    ['lit', '/api/orders/items'],
    ['glob', '/api/**'],
    ['star', '/api/*'],
    ['late-literal', '/api/orders'],
  ]);
  t.equal(tb.match('GET', null, '/api/orders/items')?.route.name, 'p1');
  t.equal(tb.match('GET', null, '/api/orders')?.route.name, 'glob');
  t.equal(tb.match('GET', null, '/api')?.route.name, 'glob');
  const tb2 = table([
    ['lit', '/api/orders/items'],
    ['p1', '/api/:x/items'],
    ['deep-glob', '/api/orders/**'],
  ]);
  t.equal(tb2.match('GET', null, '/api/orders/items')?.route.name, 'lit');
  t.equal(tb2.match('GET', null, '/api/other/items')?.route.name, 'p1');
  t.equal(tb2.match('GET', null, '/api/orders/x')?.route.name, 'deep-glob');
  const tb3 = table([
    ['late-glob-first', '/**', { methods: ['DELETE'] }],
    ['specific', '/a/b/c'],
    ['catchall', '/**'],
  ]);
  t.equal(tb3.match('GET', null, '/a/b/c')?.route.name, 'specific');
  t.equal(tb3.match('DELETE', null, '/a/b/c')?.route.name, 'late-glob-first');
  t.equal(tb3.match('GET', null, '/zzz')?.route.name, 'catchall');
});

t.test('methods and hosts are checked per candidate, falling through to later routes', async (t) => {
  const tb = table([
    ['get-api', '/api/**', { methods: ['GET', 'HEAD'] }],
    ['api-host', '/api/**', { host: 'api.example.com' }],
    ['wild-host', '/api/**', { host: '*.example.com', methods: ['POST'] }],
    ['any', '/api/**'],
  ]);
  const cases: [string, string | null, string][] = [
    ['GET', null, 'get-api'],
    ['get', null, 'get-api'], // lower-case method is upper-cased, not a bypass
    ['HEAD', 'x', 'get-api'],
    ['POST', 'api.example.com', 'api-host'],
    ['POST', 'API.EXAMPLE.COM:8443', 'api-host'],
    ['POST', 'a.b.example.com', 'wild-host'],
    ['PUT', 'a.b.example.com', 'any'],
    ['POST', 'example.com', 'any'],
    ['POST', null, 'any'],
  ];
  for (const [m, h, want] of cases) t.equal(tb.match(m, h, '/api/x')?.route.name, want, `${m} ${h}`);
});

t.test('params objects are plain data with no prototype', async (t) => {
  const tb = table([['proto', '/:__proto__/:constructor']]);
  const m = tb.match('GET', null, '/a/b');
  t.equal(m?.params['__proto__'], 'a');
  t.equal(m?.params['constructor'], 'b');
  t.equal(Object.getPrototypeOf(m?.params), null);
});

t.test('the table is frozen', async (t) => {
  const tb = table([['a', '/a']]);
  t.ok(Object.isFrozen(tb));
});

t.test('pathCovers', async (t) => {
  const cases: [string, string, boolean][] = [
    ['/api/**', '/api/orders/:id', true],
    ['/api/**', '/api', true],
    ['/api/**', '/api/**', true],
    ['/api/**', '/apix', false],
    ['/a/*', '/a/:x', true],
    ['/a/:x', '/a/*', true],
    ['/a/:x', '/a/b', true],
    ['/a/b', '/a/:x', false],
    ['/a/*', '/a/**', false],
    ['/a/*', '/a', false],
    ['/a/*', '/a/b/c', false],
    ['/**', '/', true],
    ['/', '/**', false],
    ['/a/b', '/a/b/', true],
  ];
  for (const [outer, inner, want] of cases) t.equal(pathCovers(path(outer), path(inner)), want, `${outer} ⊇ ${inner}`);
});

t.test('hostCovers', async (t) => {
  const cases: [string | null, string | null, boolean][] = [
    [null, 'a.example.com', true],
    [null, null, true],
    ['a.example.com', null, false],
    ['a.example.com', 'a.example.com', true],
    ['a.example.com', 'b.example.com', false],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', '*.b.example.com', true],
    ['*.b.example.com', '*.example.com', false],
    ['a.example.com', '*.example.com', false],
  ];
  for (const [o, i, want] of cases) t.equal(hostCovers(o === null ? null : host(o), i === null ? null : host(i)), want, `${o} ⊇ ${i}`);
});

t.test('coveringRoutes agrees with pairwise pathCovers', async (t) => {
  const sources = ['/**', '/api/**', '/api/*', '/api/:x', '/api/orders', '/api/orders/**', '/api/:x/items', '/other', '/', '/api/orders/items'];
  const tb = table(sources.map((s, i) => [`r${i}`, s] as [string, string]));
  for (const inner of sources) {
    const viaTrie = tb.coveringRoutes(path(inner)).map((r) => r.name);
    const pairwise = sources.flatMap((outer, i) => (pathCovers(path(outer), path(inner)) ? [`r${i}`] : []));
    t.same(viaTrie, pairwise, inner);
  }
});
