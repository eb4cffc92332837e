// Stage: the policy decision (pure `evaluate` from core/policy). A denial throws its AppError, except on
// `mode: shadow` routes, where the pipeline records it as would_deny and forwards anyway.
import { decisionError, evaluate } from '../../core/policy/index.js';
import type { ProxyContext } from './request-context.js';

export function authorize(ctx: ProxyContext): void {
  const match = ctx.match;
  if (match === null) throw new TypeError('authorize runs after match-route');
  const claims = ctx.claims;
  const identity =
    claims === null ? null : { sub: claims.sub, roles: claims.roles, tenant: claims.tid, permissions: ctx.policy.permissionsFor(claims.roles) };
  ctx.identity = identity;
  const decision = evaluate(match.route, identity, match.params);
  ctx.decision = decision;
  if (!decision.allow) throw decisionError(decision);
}
