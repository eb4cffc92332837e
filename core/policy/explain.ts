// `authctl policies explain`: what the proxy would decide for one request, using exactly the proxy's
// normalisation, route lookup and evaluation (no HTTP, no token — the identity is described instead).

import { isAppError } from '../errors.js';
import { evaluate, evaluateUnmatched, type DecisionCode, type PolicyIdentity } from './evaluate.js';
import { normalizeRequestTarget, splitAbsoluteForm, type NormalizeOptions } from './normalize-path.js';
import type { CompiledPolicy } from './types.js';

export interface ExplainAs {
  readonly roles?: readonly string[];
  readonly tenant?: string;
  /**
   * Whether the caller presents a valid token. Defaults to true when roles or a tenant are given and to
   * false otherwise, so `explain GET /x` describes an anonymous request.
   */
  readonly authenticated?: boolean;
  /** Host to match when `pathOrUrl` is a path (a URL's own host wins). */
  readonly host?: string;
}

export interface Explanation {
  /** The normalised path (or the raw input when it was rejected). */
  readonly path: string;
  readonly host: string | null;
  /** The route that decided, or null (unmatched with default deny, or a rejected path). */
  readonly route: string | null;
  readonly decision: 'allow' | 'deny';
  readonly reason: string;
  readonly status: 200 | 400 | 401 | 403;
  readonly code: DecisionCode | 'ERR_BAD_PATH';
  /** True when the route was the `default:` fallback. */
  readonly isDefault: boolean;
  /** The route's mode; in shadow mode the proxy forwards even when the decision is deny. */
  readonly mode: 'enforce' | 'shadow' | null;
}

/**
 * Explain a request. `pathOrUrl` is an origin-form target (`/api/orders/1?x`) or an absolute http(s) URL,
 * whose host is used for host matching.
 */
export function explain(
  policy: CompiledPolicy,
  method: string,
  pathOrUrl: string,
  as: ExplainAs = {},
  normalizeOptions?: NormalizeOptions,
): Explanation {
  const absolute = splitAbsoluteForm(pathOrUrl);
  const target = absolute === null ? pathOrUrl : absolute.target;
  const host = absolute === null ? (as.host ?? null) : absolute.host;
  let path: string;
  try {
    path = normalizeRequestTarget(target, normalizeOptions).path;
  } catch (err) {
    if (!isAppError(err)) throw err;
    return freeze({ path: target, host, route: null, decision: 'deny', reason: err.detail ?? err.message, status: 400, code: 'ERR_BAD_PATH', isDefault: false, mode: null });
  }
  const roles = as.roles ?? [];
  const authenticated = as.authenticated ?? (roles.length > 0 || as.tenant !== undefined);
  const identity: PolicyIdentity | null = authenticated
    ? { sub: 'explain', roles, tenant: as.tenant ?? null, permissions: policy.permissionsFor(roles) }
    : null;
  const match = policy.match(method.toUpperCase(), host, path);
  if (match === null) {
    const d = evaluateUnmatched(policy, identity);
    return freeze({ path, host, route: null, decision: 'deny', reason: d.reason, status: d.status, code: d.code, isDefault: false, mode: null });
  }
  const d = evaluate(match.route, identity, match.params);
  const reason = match.isDefault ? `no route matches; default route ${match.route.name}: ${d.reason}` : d.reason;
  return freeze({
    path,
    host,
    route: match.route.name,
    decision: d.allow ? 'allow' : 'deny',
    reason,
    status: d.status,
    code: d.code,
    isDefault: match.isDefault,
    mode: match.route.mode,
  });
}

function freeze(e: Explanation): Explanation {
  return Object.freeze(e);
}
