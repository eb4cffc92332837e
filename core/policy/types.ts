// The compiled, immutable form of policies.yaml that the proxy pipeline and authctl consume.

import type { HostPattern, PathPattern } from './pattern.js';
import type { PermissionsFor } from './permissions.js';
import type { AccessLevel } from './policy.schema.js';
import type { RouteMatch, RouteTable } from './route-table.js';

export type { AccessLevel };
export type RateLimitKey = 'ip' | 'user' | 'tenant' | 'route';

export interface CompiledRateLimit {
  readonly points: number;
  readonly durationSeconds: number;
  readonly by: RateLimitKey;
}

export interface CompiledRoute {
  /** Position in `routes:` (0-based); also the precedence (lower wins). */
  readonly index: number;
  readonly name: string;
  /** Upper-case methods, or null for any method. */
  readonly methods: ReadonlySet<string> | null;
  readonly host: HostPattern | null;
  readonly pattern: PathPattern;
  /** `match.path` as written. */
  readonly path: string;
  /** Upstream name, null only for `access: deny` routes without one. */
  readonly upstream: string | null;
  /** Shared with CompiledPolicy.upstreams; do not mutate. */
  readonly upstreamUrl: URL | null;
  readonly access: AccessLevel;
  /** `require.any_role` as written (empty = no role requirement). */
  readonly requireAnyRole: readonly string[];
  /** Roles that satisfy requireAnyRole: the listed ones and every role that inherits one of them. */
  readonly acceptedRoles: ReadonlySet<string>;
  /** `require.permissions`, all needed (empty = none). */
  readonly requirePermissions: readonly string[];
  readonly tenantParam: string | null;
  readonly rateLimit: CompiledRateLimit | null;
  /** `shadow`: evaluate and log the decision, but forward anyway (for rolling out a policy). */
  readonly mode: 'enforce' | 'shadow';
  /** `redirect`: browsers (Accept: text/html) without a session are sent to the login page instead of 401. */
  readonly login: 'redirect' | 'none';
  /** `headers.token`: inject the short-lived authgate-signed JWT header for this route. */
  readonly forwardToken: boolean;
}

export interface IdentityHeaderNames {
  /** The prefix as configured (e.g. `X-Auth-`). */
  readonly prefix: string;
  /**
   * Normalised (lower case, `_` → `-`) prefix. Strip every client header whose normalised name starts
   * with it (oauth2-proxy CVE-2025-64484: `X_Auth_User` slipped past a case-only comparison).
   */
  readonly stripPrefix: string;
  readonly userId: string;
  readonly email: string;
  readonly roles: string;
  readonly permissions: string;
  readonly tenant: string;
  readonly sessionId: string;
  readonly token: string;
  /** Every configured name, normalised — strip these too (a custom name may lie outside the prefix). */
  readonly all: readonly string[];
}

export interface PolicyMatch extends RouteMatch<CompiledRoute> {
  /** True when no route matched and `default:` named this route. */
  readonly isDefault: boolean;
}

export interface CompiledPolicy {
  readonly version: 1;
  /** Where the text came from (file name), for messages. */
  readonly sourceName: string;
  readonly upstreams: ReadonlyMap<string, URL>;
  /** role → every permission it grants through inherits (wildcards kept as written). */
  readonly roles: ReadonlyMap<string, ReadonlySet<string>>;
  readonly routes: readonly CompiledRoute[];
  /** The route used for unmatched requests, or null for `default: deny`. */
  readonly defaultRoute: CompiledRoute | null;
  readonly identityHeaders: IdentityHeaderNames;
  readonly table: RouteTable<CompiledRoute>;
  /** Expanded permissions of a token's roles (cached; unknown roles grant nothing). */
  readonly permissionsFor: PermissionsFor;
  /**
   * Route lookup with the `default:` fallback. `path` must come from normalizeRequestTarget; `host` is the
   * raw Host header (or URL authority). Null means "unmatched and default: deny" → evaluateUnmatched.
   */
  match(method: string, host: string | null | undefined, path: string): PolicyMatch | null;
}

export type Severity = 'error' | 'warning';

export interface PolicyProblem {
  readonly severity: Severity;
  /** The route concerned, when there is one. */
  readonly route?: string;
  /** Location in the document, e.g. `routes[3].match.path`; `` for the whole file. */
  readonly path: string;
  /** 1-based line in the source, when known. */
  readonly line?: number;
  readonly message: string;
}
