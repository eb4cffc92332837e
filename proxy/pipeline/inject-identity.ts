// Stage: add the identity headers (names from policies.yaml identity_headers) after every client-sent one
// was stripped, and optionally the short-lived X-Auth-Token JWT (audience = upstream name). Values are
// sanitised: anything outside printable ASCII is percent-encoded, so no CR/LF can split a header.
import type { ProxyContext } from './request-context.js';

const UNSAFE = /[^\x20-\x7e]/;
const UNSAFE_ALL = /[^\x20-\x7e]/gu;

export function headerValue(value: string): string {
  if (!UNSAFE.test(value)) return value;
  return value.replace(UNSAFE_ALL, (c) => {
    const cp = c.codePointAt(0) ?? 0;
    // Lone surrogates cannot be encoded; drop them.
    return cp >= 0xd800 && cp <= 0xdfff ? '' : encodeURIComponent(c);
  });
}

const joinedPermissions = new WeakMap<ReadonlySet<string>, string>();

/** The permissions header value, computed once per (cached) permission set. */
function permissionsValue(set: ReadonlySet<string>): string {
  let v = joinedPermissions.get(set);
  if (v === undefined) {
    v = headerValue([...set].sort().join(','));
    joinedPermissions.set(set, v);
  }
  return v;
}

export function injectIdentity(ctx: ProxyContext): void | Promise<void> {
  const claims = ctx.claims;
  const identity = ctx.identity;
  if (claims === null || identity === null) return;
  const names = ctx.policy.identityHeaders;
  const out = ctx.upstreamHeaders;
  out.push(
    names.userId, headerValue(claims.sub),
    names.email, headerValue(claims.email),
    names.roles, headerValue(claims.roles.join(',')),
    names.permissions, permissionsValue(identity.permissions),
    names.tenant, headerValue(claims.tid),
    names.sessionId, headerValue(claims.sid),
  );
  const route = ctx.route;
  if (route === null || !route.forwardToken || route.upstream === null) return;
  return ctx.deps.core.tokens
    .signJwt(
      { sub: claims.sub, sid: claims.sid, tid: claims.tid, roles: claims.roles, email: claims.email, permissions: [...identity.permissions] },
      { typ: 'authgate-upstream+jwt', ttlSeconds: ctx.deps.upstreamTokenTtlSeconds, audience: route.upstream },
    )
    .then((jwt) => {
      out.push(names.token, jwt);
    });
}
