// Summarises a V8 .cpuprofile (node --cpu-prof): top functions by self time and by inclusive time,
// with their source location. Usage: node bench/lib/profile-summary.js FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

const [file, nText = '30'] = process.argv.slice(2);
const n = Number(nText);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
const parent = new Map();
for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const label = (node) => {
  const f = node.callFrame;
  const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};
const self = new Map();
const inclusive = new Map();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  self.set(label(node), (self.get(label(node)) ?? 0) + us);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur));
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + us);
  }
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`total sampled ${(total / 1e6).toFixed(2)} s`);
console.log('--- self time');
for (const [l, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(us)}  ${l}`);
console.log('--- inclusive time');
for (const [l, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(us)}  ${l}`);
