// Public surface of the policy engine (policies.yaml): compile, match, evaluate, explain, test.
// The proxy pipeline and authctl import from here only.

export { compilePolicy, loadPolicyFile, formatProblem, type CompileOptions, type CompilePolicyResult } from './compile.js';
export {
  evaluate,
  evaluateUnmatched,
  needsIdentity,
  decisionError,
  type Decision,
  type DecisionCode,
  type PolicyIdentity,
} from './evaluate.js';
export { explain, type ExplainAs, type Explanation } from './explain.js';
export {
  normalizeRequestTarget,
  normalizeHost,
  splitAbsoluteForm,
  type NormalizedTarget,
  type NormalizeOptions,
  type AbsoluteFormParts,
} from './normalize-path.js';
export { hasPermission } from './permissions.js';
export {
  parsePolicyTests,
  runPolicyTests,
  runPolicyTestFile,
  type PolicyTestCase,
  type PolicyTestReport,
  type PolicyTestResult,
  type PolicyTestFileResult,
} from './policy-test.js';
export type { RouteMatch } from './route-table.js';
export type {
  CompiledPolicy,
  CompiledRoute,
  CompiledRateLimit,
  IdentityHeaderNames,
  PolicyMatch,
  PolicyProblem,
  AccessLevel,
  RateLimitKey,
} from './types.js';
