// The route trie with many routes: correct first-match results at 10,000 routes (timing lives in
// bench/route-lookup.ts, not here).
import t from 'tap';
import { compilePolicy } from '../../core/policy/compile.js';

function bigPolicy(n: number): string {
  const lines = ['version: 1', 'upstreams: { app: "http://127.0.0.1:4000" }', 'routes:'];
  for (let i = 0; i < n - 1; i++) {
    lines.push(`  - { name: r${i}, match: { methods: [GET], path: "/svc${i}/items/:id" }, upstream: app, access: public }`);
  }
  lines.push(`  - { name: last, match: { path: "/zz/**" }, upstream: app, access: public }`);
  return lines.join('\n');
}

t.test('10,000 routes: lookups return the first matching route', async (t) => {
  const { policy, problems } = compilePolicy(bigPolicy(10_000));
  t.same(problems.filter((p) => p.severity === 'error'), []);
  if (!policy) return t.fail('no policy');
  t.equal(policy.routes.length, 10_000);
  t.equal(policy.match('GET', null, '/zz/a/b')?.route.name, 'last', 'last-declared route');
  t.equal(policy.match('GET', null, '/svc0/items/1')?.route.name, 'r0');
  t.equal(policy.match('GET', null, '/svc9998/items/1')?.route.name, 'r9998');
  t.same({ ...policy.match('GET', null, '/svc5000/items/abc')?.params }, { id: 'abc' });
  t.equal(policy.match('POST', null, '/svc5000/items/abc'), null, 'method mismatch falls to default deny');
  t.equal(policy.match('GET', null, '/svc10000/items/1'), null);
});

t.test('10,000 routes sharing one prefix, distinguished late', async (t) => {
  const lines = ['version: 1', 'upstreams: { app: "http://127.0.0.1:4000" }', 'routes:'];
  for (let i = 0; i < 10_000; i++) lines.push(`  - { name: r${i}, match: { path: "/api/:v/x${i}" }, upstream: app }`);
  const { policy } = compilePolicy(lines.join('\n'));
  if (!policy) return t.fail('no policy');
  t.equal(policy.match('GET', null, '/api/v1/x9999')?.route.name, 'r9999');
  t.equal(policy.match('GET', null, '/api/v1/x0')?.route.name, 'r0');
});
