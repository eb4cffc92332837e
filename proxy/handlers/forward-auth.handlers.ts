// GET {auth_prefix}/verify — forward-auth for nginx auth_request, Traefik ForwardAuth and Envoy ext_authz
// (HTTP mode): the proxy in front asks whether the ORIGINAL request may pass and gets 200 + identity
// headers, or 401/403/429. The decision is the proxy pipeline's own (same stages, no forwarding).
//
// Trust model: the caller of this endpoint IS the reverse proxy, and it describes the original request in
// X-Original-Method/X-Original-URI (nginx) or X-Forwarded-Method/-Uri/-Host (Traefik). Those headers are
// therefore read whatever TRUSTED_PROXIES says; the proxy must set them itself, overwriting anything the
// client sent. A client calling /auth/verify directly learns only whether its own token would be allowed
// on a path — the same it learns by trying the path. The client IP (rate limits) still follows
// TRUSTED_PROXIES.
import type { Router } from '../http/router.js';
import type { ProxyPipeline } from '../pipeline/index.js';

// nginx and Traefik send GET; Envoy ext_authz (HTTP) repeats the original method.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export function registerForwardAuthRoutes(router: Router, prefix: string, pipeline: Pick<ProxyPipeline, 'verify'>): void {
  router.add(METHODS, `${prefix}/verify`, (ctx) => pipeline.verify(ctx.req, ctx.res, ctx.requestId));
}
