// authctl policies check|explain|test: the same compiler, explain and test runner (core/policy) that the
// server uses on load and reload, so the CLI and the proxy can never disagree about a policy.
import type { Config } from '../../config/config.schema.js';
import { explain, formatProblem, loadPolicyFile, runPolicyTestFile, type PolicyProblem } from '../../core/policy/index.js';
import { AppError } from '../../core/errors.js';
import { CommandExit, EXIT } from '../exit-codes.js';
import { message, print, type Output } from '../output.js';

const problemJson = (p: PolicyProblem) => ({ severity: p.severity, route: p.route ?? null, path: p.path, line: p.line ?? null, message: p.message });

/** Exit 1 when the file is invalid or a route is fully shadowed (each named); warnings alone pass. */
export async function checkPolicies(config: Config, file: string | undefined, asJson: boolean): Promise<Output> {
  const path = file ?? config.policies.file;
  const { policy, problems } = await loadPolicyFile(path);
  const errors = problems.filter((p) => p.severity === 'error');
  const data = {
    file: path,
    ok: errors.length === 0,
    routes: policy ? policy.routes.length : null,
    roles: policy ? [...policy.roles.keys()] : null,
    problems: problems.map(problemJson),
  };
  const lines = problems.map((p) => formatProblem(p, path));
  if (errors.length === 0) lines.push(`${path}: ok (${data.routes} routes, ${data.roles?.length ?? 0} roles${problems.length ? `, ${problems.length} warning(s)` : ''})`);
  else lines.push(`${path}: ${errors.length} error(s)`);
  const out = message(lines.join('\n'), data);
  if (errors.length > 0) {
    print(out, asJson);
    throw new CommandExit(EXIT.failed);
  }
  return out;
}

export interface ExplainInput {
  method: string;
  target: string;
  roles: string[];
  tenant?: string;
  host?: string;
  file?: string;
}

/** What the proxy would decide; exit 0 whether the answer is allow or deny. */
export async function explainRequest(config: Config, input: ExplainInput): Promise<Output> {
  const path = input.file ?? config.policies.file;
  const { policy, problems } = await loadPolicyFile(path);
  if (!policy) {
    const first = problems.find((p) => p.severity === 'error');
    throw new AppError('ERR_POLICY_INVALID', 500, 'Policy file invalid', {
      detail: `${first ? formatProblem(first, path) : path} (run authctl policies check)`,
      expose: true,
    });
  }
  const e = explain(policy, input.method, input.target, {
    roles: input.roles,
    ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
    ...(input.host !== undefined ? { host: input.host } : {}),
  });
  const data = { path: e.path, route: e.route, decision: e.decision, reason: e.reason };
  const who = input.roles.length || input.tenant ? `roles ${input.roles.join(',') || '(none)'}${input.tenant ? `, tenant ${input.tenant}` : ''}` : 'anonymous';
  const text = [
    `request   ${input.method.toUpperCase()} ${input.target} (${who})`,
    `path      ${e.path}`,
    `route     ${e.route ?? '(none)'}${e.isDefault ? ' (default)' : ''}${e.mode === 'shadow' ? ' [shadow mode: forwarded anyway]' : ''}`,
    `decision  ${e.decision} (${e.status})`,
    `reason    ${e.reason}`,
  ].join('\n');
  return message(text, data);
}

/** Runs an expectations file; exit 1 on any failed case or problem. */
export async function testPolicies(config: Config, file: string, asJson: boolean): Promise<Output> {
  const result = await runPolicyTestFile(file, { policyFile: config.policies.file });
  const report = result.report;
  const policyFile = result.policyFile ?? config.policies.file;
  const lines: string[] = result.problems.map((p) => formatProblem(p, p.path.startsWith('routes') ? policyFile : file));
  for (const r of report?.results ?? []) {
    lines.push(`${r.passed ? 'ok  ' : 'FAIL'}  ${r.name}${r.passed ? '' : `: ${r.failures.join('; ')}`}`);
  }
  if (report) lines.push(`${report.summary.passed}/${report.summary.total} passed${report.summary.failed ? `, ${report.summary.failed} failed` : ''}`);
  const data = {
    file,
    policy: policyFile,
    ok: report !== undefined && report.summary.failed === 0 && !result.problems.some((p) => p.severity === 'error'),
    summary: report?.summary ?? null,
    results: (report?.results ?? []).map((r) => ({
      name: r.name,
      request: r.request,
      passed: r.passed,
      expect: r.expect,
      decision: r.actual.decision,
      status: r.actual.status,
      route: r.actual.route,
      failures: r.failures,
    })),
    problems: result.problems.map(problemJson),
  };
  const out = message(lines.join('\n'), data);
  if (!data.ok) {
    print(out, asJson);
    throw new CommandExit(EXIT.failed);
  }
  return out;
}
