// Stage: find the route (first match in file order, via the compiled segment trie). Unmatched requests
// with `default: deny` stop here with 403 — no token work, nothing reaches an upstream.
import { decisionError, evaluateUnmatched } from '../../core/policy/index.js';
import type { ProxyContext } from './request-context.js';

export function matchRoute(ctx: ProxyContext): void {
  const match = ctx.policy.match(ctx.method, ctx.host, ctx.path);
  if (match === null) {
    const decision = evaluateUnmatched(ctx.policy);
    ctx.decision = decision;
    throw decisionError(decision);
  }
  ctx.match = match;
  ctx.route = match.route;
}
