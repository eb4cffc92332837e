// `authctl policies test FILE`: runs a YAML list of request expectations against a compiled policy via
// explain(), so the cases exercise the same normalisation, lookup and evaluation as the proxy.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { compilePolicy, formatPath } from './compile.js';
import { explain, type Explanation } from './explain.js';
import type { CompiledPolicy, PolicyProblem } from './types.js';

/*
 * File format — either a plain list of cases (the caller supplies the policy) or
 *   policies: ./policies.yaml        # relative to this file
 *   cases: [ ... ]
 * Each case:
 *   - name: editor may write          # optional
 *     request: "POST /api/orders"     # METHOD and a path, or METHOD and a full URL (its host is matched)
 *     host: api.example.com           # optional, for a path-only request
 *     as: { roles: [editor], tenant: acme }   # a signed-in caller; `as: { anonymous: true }` or no `as` = no token
 *     expect: allow                   # allow | deny | 200 | 400 | 401 | 403
 *     route: orders-write             # optional: the route that must decide (null = none matched)
 */
const EXPECTATIONS = ['allow', 'deny', 200, 400, 401, 403] as const;

const caseSchema = z
  .object({
    name: z.string().optional(),
    request: z.string().regex(/^\s*[A-Za-z]+\s+\S+\s*$/, 'request must be "METHOD /path" or "METHOD https://host/path"'),
    host: z.string().min(1).optional(),
    as: z
      .object({
        roles: z.array(z.string()).optional(),
        tenant: z.string().optional(),
        anonymous: z.boolean().optional(),
      })
      .strict()
      .optional(),
    expect: z.union([z.enum(['allow', 'deny']), z.literal(200), z.literal(400), z.literal(401), z.literal(403)], {
      errorMap: () => ({ message: `expect must be one of ${EXPECTATIONS.join(', ')}` }),
    }),
    route: z.string().nullable().optional(),
  })
  .strict();

export type PolicyTestCase = z.infer<typeof caseSchema>;
export type Expectation = PolicyTestCase['expect'];

export interface PolicyTestResult {
  readonly index: number;
  readonly name: string;
  readonly request: string;
  readonly passed: boolean;
  readonly expect: Expectation;
  readonly expectRoute?: string | null;
  readonly actual: Explanation;
  /** Why it failed (empty when passed). */
  readonly failures: readonly string[];
}

export interface PolicyTestReport {
  readonly results: readonly PolicyTestResult[];
  readonly summary: { readonly total: number; readonly passed: number; readonly failed: number };
}

export interface ParsedPolicyTests {
  /** `policies:` as written (relative paths are relative to the test file). */
  readonly policies?: string;
  readonly cases: readonly PolicyTestCase[];
  readonly problems: readonly PolicyProblem[];
}

/** Parse an expectations file. Invalid cases are reported and left out. */
export function parsePolicyTests(yamlText: string): ParsedPolicyTests {
  const problems: PolicyProblem[] = [];
  let doc: unknown;
  try {
    doc = parseYaml(yamlText, { uniqueKeys: true, maxAliasCount: 1000 });
  } catch (err) {
    return { cases: [], problems: [{ severity: 'error', path: '', message: `YAML: ${err instanceof Error ? err.message.split('\n', 1)[0] : String(err)}` }] };
  }
  let policies: string | undefined;
  let rawCases: unknown;
  let base: (string | number)[] = [];
  if (Array.isArray(doc)) {
    rawCases = doc;
  } else if (doc !== null && typeof doc === 'object') {
    const top = doc as Record<string, unknown>;
    for (const key of Object.keys(top)) {
      if (key !== 'policies' && key !== 'cases') problems.push({ severity: 'error', path: key, message: `unknown key "${key}"` });
    }
    if (top.policies !== undefined) {
      if (typeof top.policies === 'string' && top.policies !== '') policies = top.policies;
      else problems.push({ severity: 'error', path: 'policies', message: 'policies must be a file path' });
    }
    rawCases = top.cases;
    base = ['cases'];
  }
  if (!Array.isArray(rawCases)) {
    problems.push({ severity: 'error', path: formatPath(base), message: 'expected a list of cases (or {policies, cases})' });
    return { ...(policies === undefined ? {} : { policies }), cases: [], problems };
  }
  const cases: PolicyTestCase[] = [];
  rawCases.forEach((raw, i) => {
    const parsed = caseSchema.safeParse(raw);
    if (parsed.success) {
      cases.push(parsed.data);
      return;
    }
    for (const issue of parsed.error.issues) {
      const at = formatPath([...base, i, ...issue.path]);
      const message = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
      problems.push({ severity: 'error', path: at, message });
    }
  });
  return { ...(policies === undefined ? {} : { policies }), cases, problems };
}

/** Run the cases against a policy. */
export function runPolicyTests(policy: CompiledPolicy, cases: readonly PolicyTestCase[]): PolicyTestReport {
  const results = cases.map((c, index): PolicyTestResult => {
    const [method = 'GET', target = '/'] = c.request.trim().split(/\s+/);
    const anonymous = c.as === undefined || c.as.anonymous === true;
    const actual = explain(policy, method, target, {
      roles: c.as?.roles ?? [],
      ...(c.as?.tenant === undefined ? {} : { tenant: c.as.tenant }),
      ...(c.host === undefined ? {} : { host: c.host }),
      authenticated: !anonymous,
    });
    const failures: string[] = [];
    if (!expectationHolds(c.expect, actual)) {
      failures.push(`expected ${c.expect}, got ${actual.decision} ${actual.status} (${actual.reason})`);
    }
    if (c.route !== undefined && c.route !== actual.route) {
      failures.push(`expected route ${c.route ?? 'none'}, got ${actual.route ?? 'none'}`);
    }
    return {
      index,
      name: c.name ?? c.request.trim(),
      request: c.request.trim(),
      passed: failures.length === 0,
      expect: c.expect,
      ...(c.route === undefined ? {} : { expectRoute: c.route }),
      actual,
      failures,
    };
  });
  const passed = results.filter((r) => r.passed).length;
  return { results, summary: { total: results.length, passed, failed: results.length - passed } };
}

function expectationHolds(expect: Expectation, actual: Explanation): boolean {
  switch (expect) {
    case 'allow':
      return actual.decision === 'allow';
    case 'deny':
      return actual.decision === 'deny';
    default:
      return actual.status === expect;
  }
}

export interface PolicyTestFileOptions {
  /** Used when the file does not name its policy. */
  readonly policy?: CompiledPolicy;
  /** Loaded when the file does not name its policy and no `policy` is given (e.g. POLICIES_FILE). */
  readonly policyFile?: string;
}

export interface PolicyTestFileResult {
  /** Absent when the file or the policy could not be used. */
  readonly report?: PolicyTestReport;
  /** Problems of the test file and, when it was loaded here, of the policy. */
  readonly problems: readonly PolicyProblem[];
  /** The policy file that was used, when one was loaded. */
  readonly policyFile?: string;
}

/**
 * Read an expectations file and run it. The policy is, in order: the file's own `policies:` (relative to
 * the test file), `options.policy`, `options.policyFile`. `report` is absent if any error prevented a run;
 * invalid cases alone do not prevent running the valid ones (the problems still fail the command).
 */
export async function runPolicyTestFile(file: string, options: PolicyTestFileOptions = {}): Promise<PolicyTestFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { problems: [{ severity: 'error', path: '', message: `cannot read ${file}: ${errCode(err)}` }] };
  }
  const parsed = parsePolicyTests(text);
  let policy = options.policy;
  let policyFile: string | undefined;
  if (parsed.policies !== undefined) policyFile = path.resolve(path.dirname(file), parsed.policies);
  else if (policy === undefined) policyFile = options.policyFile;
  const problems: PolicyProblem[] = [...parsed.problems];
  if (policyFile !== undefined) {
    let policyText: string;
    try {
      policyText = await readFile(policyFile, 'utf8');
    } catch (err) {
      problems.push({ severity: 'error', path: 'policies', message: `cannot read ${policyFile}: ${errCode(err)}` });
      return { problems, policyFile };
    }
    const compiled = compilePolicy(policyText, { sourceName: policyFile });
    problems.push(...compiled.problems);
    policy = compiled.policy;
  }
  if (policy === undefined) {
    if (policyFile === undefined) problems.push({ severity: 'error', path: '', message: 'no policy: name one with "policies:" in the file or pass it' });
    return { problems, ...(policyFile === undefined ? {} : { policyFile }) };
  }
  return { report: runPolicyTests(policy, parsed.cases), problems, ...(policyFile === undefined ? {} : { policyFile }) };
}

function errCode(err: unknown): string {
  if (err instanceof Error && 'code' in err) return String((err as NodeJS.ErrnoException).code);
  return String(err);
}
