// CI smoke run of `npm run bench` in quick mode (about a second per scenario): every scenario must run and
// produce non-zero throughput with no errors or non-2xx answers. No timing thresholds: the figures
// themselves are for docs/benchmarks.md, not for CI. Needs dist/ (npm test builds it first).
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Scenario {
  rps: number;
  errors: number;
  non2xx: number;
}
interface Results {
  scenarios: Record<string, Scenario>;
  ratios: Record<string, number | null>;
  notes: string[];
}

t.test('npm run bench --quick: every scenario runs with non-zero throughput and no errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-bench-smoke-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'results.json');
  // 500 idle connections keep the RSS scenario short; the full run uses 10,000.
  const child = spawn(process.execPath, [join(ROOT, 'bench/run.js'), '--quick', '--idle', '500', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGINT'), 150_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  t.equal(code, 0, `bench exits 0\n${stdout}\n${stderr.slice(-3000)}`);
  const results = JSON.parse(readFileSync(out, 'utf8')) as Results;

  const expected = ['direct', 'bare', 'public', 'full', 'routes10', 'routes10k', 'logins', 'bcrypt', 'p99_calm', 'p99_storm', 'rss', 'rss_after_load'];
  // nginx and Redis run where they are installed/reachable (CI has both); otherwise the bench says why.
  for (const optional of ['nginx', 'redis']) {
    if (results.scenarios[optional]) expected.push(optional);
    else t.ok(results.notes.some((n) => n.startsWith(`${optional} scenario skipped`)), `${optional} skipped with a note`);
  }
  for (const name of expected) {
    const s = results.scenarios[name];
    t.ok(s, `scenario ${name} ran`);
    if (!s) continue;
    t.ok(s.rps > 0, `${name}: non-zero throughput (${s.rps})`);
    t.equal(s.errors, 0, `${name}: no errors`);
    t.equal(s.non2xx, 0, `${name}: no non-2xx answers`);
  }
  for (const ratio of ['full/bare', 'routes10k/routes10', 'logins/bcrypt', 'p99 storm/calm']) {
    t.type(results.ratios[ratio], 'number', `ratio ${ratio} computed`);
    t.match(stdout, new RegExp(`^${ratio.replace('/', '\\/')} = \\d`, 'm'), `ratio line ${ratio} printed`);
  }
});
