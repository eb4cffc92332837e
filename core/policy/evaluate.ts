// The pure authorisation decision for one request: route + identity + path params → allow/deny with a
// stable code and a human-readable reason. No I/O, no clock; the pipeline turns denials into AppErrors.

import { AppError } from '../errors.js';
import { hasPermission } from './permissions.js';
import type { CompiledPolicy, CompiledRoute } from './types.js';

/** The verified caller, as far as policy is concerned. */
export interface PolicyIdentity {
  readonly sub: string;
  /** Roles from the token (`roles` claim). */
  readonly roles: readonly string[];
  /** Tenant slug from the token (`tid`), or null. */
  readonly tenant: string | null;
  /** Granted permissions: `policy.permissionsFor(roles)`. */
  readonly permissions: ReadonlySet<string>;
}

export type DecisionCode = 'OK' | 'ERR_UNAUTHENTICATED' | 'ERR_POLICY_DENIED' | 'ERR_ROUTE_DENIED' | 'ERR_TENANT_MISMATCH';

export interface Decision {
  readonly allow: boolean;
  readonly status: 200 | 401 | 403;
  readonly reason: string;
  readonly code: DecisionCode;
}

const PUBLIC: Decision = Object.freeze({ allow: true, status: 200, reason: 'public route', code: 'OK' });
const UNAUTHENTICATED: Decision = Object.freeze({ allow: false, status: 401, reason: 'authentication required', code: 'ERR_UNAUTHENTICATED' });
const UNMATCHED_DENY: Decision = Object.freeze({ allow: false, status: 403, reason: 'no route matches and the default is deny', code: 'ERR_ROUTE_DENIED' });

/**
 * Decide one request. Order: `access: deny` → `public` → no identity (401) → any_role → permissions →
 * tenant. Allow decisions on the hot path are preallocated per route where possible.
 *
 * `mode: shadow` is NOT applied here: the decision is the real one; the pipeline logs it and forwards.
 * A tenant-scoped route is not opened to cross-tenant admins: if an upstream needs that, give it a
 * separate route without `tenant_param` guarded by an admin permission.
 */
export function evaluate(route: CompiledRoute, identity: PolicyIdentity | null, params: Readonly<Record<string, string>>): Decision {
  if (route.access === 'deny') return deny(403, 'ERR_ROUTE_DENIED', `route ${route.name} denies all access`);
  if (route.access === 'public') return PUBLIC;
  if (identity === null) return UNAUTHENTICATED;

  if (route.requireAnyRole.length > 0 && !identity.roles.some((r) => route.acceptedRoles.has(r))) {
    return deny(403, 'ERR_POLICY_DENIED', `requires one of roles [${route.requireAnyRole.join(', ')}]`);
  }
  if (route.requirePermissions.length > 0) {
    let missing: string[] | null = null;
    for (const p of route.requirePermissions) {
      if (!hasPermission(identity.permissions, p)) (missing ??= []).push(p);
    }
    if (missing !== null) {
      const reason = missing.length === 1 ? `missing permission ${missing[0]}` : `missing permissions ${missing.join(', ')}`;
      return deny(403, 'ERR_POLICY_DENIED', reason);
    }
  }
  if (route.tenantParam !== null) {
    const wanted = params[route.tenantParam];
    if (wanted === undefined) {
      // compile.ts guarantees the param exists; reaching this means the caller passed the wrong params.
      return deny(403, 'ERR_TENANT_MISMATCH', `path has no tenant parameter ${route.tenantParam}`);
    }
    if (identity.tenant === null || identity.tenant === '') {
      return deny(403, 'ERR_TENANT_MISMATCH', `token has no tenant but path tenant is ${wanted}`);
    }
    if (identity.tenant !== wanted) {
      return deny(403, 'ERR_TENANT_MISMATCH', `tenant ${identity.tenant} does not match path tenant ${wanted}`);
    }
    return allowDecision(route, true);
  }
  return allowDecision(route, false);
}

/** The decision for a request no route matched (`default: deny`); with a default route, use evaluate. */
export function evaluateUnmatched(policy: CompiledPolicy, identity: PolicyIdentity | null = null): Decision {
  if (policy.defaultRoute === null) return UNMATCHED_DENY;
  return evaluate(policy.defaultRoute, identity, {});
}

/** Whether the route needs a verified identity at all (so the pipeline can skip token work otherwise). */
export function needsIdentity(route: CompiledRoute): boolean {
  return route.access === 'authenticated';
}

/** Turn a denial into the AppError the problem+json module renders (code and status preserved). */
export function decisionError(decision: Decision): AppError {
  if (decision.allow) throw new TypeError('decisionError called with an allow decision');
  if (decision.status === 401) return new AppError(decision.code, 401, 'Unauthorized', { detail: 'Authentication is required.' });
  return new AppError(decision.code, 403, 'Forbidden', { detail: decision.reason });
}

const allowCache = new WeakMap<CompiledRoute, readonly [Decision, Decision]>();

function allowDecision(route: CompiledRoute, tenantChecked: boolean): Decision {
  let pair = allowCache.get(route);
  if (pair === undefined) {
    const base = describeAllow(route);
    pair = [
      Object.freeze({ allow: true, status: 200, reason: base, code: 'OK' }),
      Object.freeze({ allow: true, status: 200, reason: `${base}; tenant matches`, code: 'OK' }),
    ] as const;
    allowCache.set(route, pair);
  }
  return tenantChecked ? pair[1] : pair[0];
}

function describeAllow(route: CompiledRoute): string {
  const parts: string[] = [];
  if (route.requireAnyRole.length > 0) parts.push(`has one of roles [${route.requireAnyRole.join(', ')}]`);
  if (route.requirePermissions.length > 0) parts.push(`has permissions [${route.requirePermissions.join(', ')}]`);
  return parts.length === 0 ? 'authenticated' : `authenticated; ${parts.join('; ')}`;
}

function deny(status: 401 | 403, code: DecisionCode, reason: string): Decision {
  return { allow: false, status, reason, code };
}
