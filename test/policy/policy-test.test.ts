// The `authctl policies test` runner: file formats, pass/fail per case, summary, policy resolution.
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { compilePolicy } from '../../core/policy/compile.js';
import { parsePolicyTests, runPolicyTestFile, runPolicyTests } from '../../core/policy/policy-test.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const demoFile = fileURLToPath(new URL('../../policies.yaml', import.meta.url));
const demo = compilePolicy(readFileSync(demoFile, 'utf8')).policy!;

t.test('the demo expectations all pass against the root policies.yaml', async (t) => {
  const r = await runPolicyTestFile(fixture('demo.cases.yaml'));
  t.same(r.problems, []);
  t.equal(r.policyFile, demoFile);
  const failed = r.report?.results.filter((c) => !c.passed) ?? [];
  t.same(failed.map((c) => `${c.name}: ${c.failures.join('; ')}`), []);
  t.equal(r.report?.summary.total, 21);
  t.equal(r.report?.summary.failed, 0);
});

t.test('tenants fixture', async (t) => {
  const r = await runPolicyTestFile(fixture('tenants.cases.yaml'));
  t.same(r.problems, []);
  t.same(r.report?.results.filter((c) => !c.passed).map((c) => `${c.name}: ${c.failures.join('; ')}`), []);
  t.equal(r.report?.summary.passed, 9);
});

t.test('a plain list uses the caller-supplied policy; failures are explained', async (t) => {
  const none = await runPolicyTestFile(fixture('plain-list.cases.yaml'));
  t.equal(none.report, undefined);
  t.match(none.problems[0]?.message, /no policy/);

  const r = await runPolicyTestFile(fixture('plain-list.cases.yaml'), { policy: demo });
  t.same(r.problems, []);
  t.same(r.report?.summary, { total: 4, passed: 2, failed: 2 });
  const [, , wrong, wrongRoute] = r.report!.results;
  t.equal(wrong?.name, 'deliberately wrong');
  t.equal(wrong?.passed, false);
  t.match(wrong?.failures[0], /expected allow, got deny 401/);
  t.equal(wrongRoute?.passed, false);
  t.match(wrongRoute?.failures[0], /expected route orders-write, got orders-read/);

  const viaFile = await runPolicyTestFile(fixture('plain-list.cases.yaml'), { policyFile: demoFile });
  t.same(viaFile.report?.summary, { total: 4, passed: 2, failed: 2 });
});

t.test('a broken referenced policy is reported, not run', async (t) => {
  const dir = t.testdir({ 'cases.yaml': `policies: ${fixture('broken.policies.yaml')}\ncases:\n  - { request: GET /x, expect: allow }\n` });
  const r = await runPolicyTestFile(`${dir}/cases.yaml`);
  t.equal(r.report, undefined);
  t.ok(r.problems.some((p) => p.route === 'never' && /can never match/.test(p.message)));
});

t.test('unreadable files', async (t) => {
  const r = await runPolicyTestFile(fixture('missing.yaml'));
  t.match(r.problems[0]?.message, /cannot read .*ENOENT/);
  const dir = t.testdir({ 'cases.yaml': 'policies: ./nope.yaml\ncases: []\n' });
  const r2 = await runPolicyTestFile(`${dir}/cases.yaml`);
  t.match(r2.problems[0]?.message, /cannot read .*nope\.yaml/);
});

t.test('parsePolicyTests reports bad cases and keeps good ones', async (t) => {
  const parsed = parsePolicyTests(`cases:
  - { request: GET /a, expect: allow }
  - { request: "GET", expect: allow }
  - { request: GET /a, expect: maybe }
  - { request: GET /a, expect: 403, as: { role: [x] } }
  - { request: GET /a, expect: 400 }
extra: 1
`);
  t.equal(parsed.cases.length, 2);
  const paths = parsed.problems.map((p) => p.path);
  t.ok(paths.includes('cases[1].request'));
  t.ok(paths.includes('cases[2].expect'));
  t.ok(paths.includes('cases[3].as'));
  t.ok(paths.includes('extra'));
  t.match(parsePolicyTests('{{{').problems[0]?.message, /^YAML/);
  t.match(parsePolicyTests('just: text').problems.at(-1)?.message, /expected a list/);
});

t.test('expectations: allow/deny/status and route null', async (t) => {
  const cases = parsePolicyTests(`
- { request: GET /nope, expect: deny, route: null }
- { request: GET /nope, expect: 403 }
- { request: GET /nope, expect: 401 }
- { request: GET /health, expect: 200 }
- { request: GET /%zz, expect: 400 }
- { request: GET /%zz, expect: deny }
- { request: GET /api/orders/1, as: {}, expect: 403 }
`).cases;
  const report = runPolicyTests(demo, cases);
  t.same(report.results.map((r) => r.passed), [true, true, false, true, true, true, true]);
  t.equal(report.results[6]?.actual.reason, 'requires one of roles [viewer]', '`as: {}` is a signed-in user with no roles');
});
