// Micro-benchmark of the policy route lookup (normalise + trie match): ns per lookup for 10 vs 10,000
// routes, hitting the LAST declared route — the worst case for a linear scan. Not a test; run with
//   node --import @tapjs/typescript/import bench/route-lookup.ts
import { compilePolicy } from '../core/policy/compile.js';
import { normalizeRequestTarget } from '../core/policy/normalize-path.js';

function policyText(n: number): string {
  const lines = ['version: 1', 'upstreams: { app: "http://127.0.0.1:4000" }', 'routes:'];
  for (let i = 0; i < n - 1; i++) {
    lines.push(`  - { name: r${i}, match: { methods: [GET, POST], path: "/svc${i}/items/:id" }, upstream: app }`);
  }
  lines.push(`  - { name: last, match: { methods: [GET], path: "/last/:tenant/**" }, upstream: app }`);
  return lines.join('\n');
}

function bench(n: number): void {
  const started = process.hrtime.bigint();
  const { policy, problems } = compilePolicy(policyText(n));
  const compileMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (!policy) throw new Error(problems.map((p) => p.message).join('\n'));
  const targets = ['/last/acme/orders/1?x=1', '/last/acme/orders/../items', '/svc0/items/9'];
  const iterations = 1_000_000;
  let sink = 0;
  for (let i = 0; i < 100_000; i++) sink += policy.match('GET', 'api.example.com', normalizeRequestTarget(targets[i % 3] as string).path)?.route.index ?? 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const { path } = normalizeRequestTarget(targets[0] as string);
    sink += policy.match('GET', 'api.example.com', path)?.route.index ?? 0;
  }
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const { path } = normalizeRequestTarget(targets[1] as string);
    sink += policy.match('GET', 'api.example.com', path)?.route.index ?? 0;
  }
  const t2 = process.hrtime.bigint();
  const fast = Number(t1 - t0) / iterations;
  const slow = Number(t2 - t1) / iterations;
  console.log(
    `${String(n).padStart(6)} routes: compile ${compileMs.toFixed(0).padStart(5)} ms | last route, clean path ${fast.toFixed(0).padStart(4)} ns/lookup | with dot-segments ${slow.toFixed(0).padStart(4)} ns/lookup  (${sink > 0 ? 'ok' : '?'})`,
  );
}

for (const n of [10, 10_000]) bench(n);
