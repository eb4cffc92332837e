// The proxy pipeline: the stage table below IS the order every proxied request (and WebSocket upgrade, and
// forward-auth check) goes through. Each stage lives in its own file and either fills the context fields
// it owns or throws an AppError; denials are answered here, and only allowed requests reach `forward`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError, Errors, isAppError } from '../../core/errors.js';
import { problemBody, sendProblem, toAppError } from '../http/problem.js';
import type { ProxyHandler } from '../server.js';
import type { AppContext } from '../app.js';
import { TokenCache } from '../token-cache.js';
import { assignRequestId } from './assign-request-id.js';
import { normalizeTarget } from './normalize-target.js';
import { matchRoute } from './match-route.js';
import { stripHeaders } from './strip-headers.js';
import { readCredential } from './read-credential.js';
import { readSessionCookie } from './read-session-cookie.js';
import { redirectToLogin } from './redirect-to-login.js';
import { verifyToken } from './verify-token.js';
import { checkRevocation } from './check-revocation.js';
import { authorize } from './authorize.js';
import { injectIdentity } from './inject-identity.js';
import { Forwarder } from './forward.js';
import { DecisionCounters, ProxyContext, type PipelineDeps, type Stage } from './request-context.js';

interface StageEntry {
  readonly name: string;
  readonly run: Stage;
  /**
   * Decision stages: on a `mode: shadow` route their denial is recorded as would_deny and the request goes
   * on (anonymous if the credential was the problem); once one has denied, the others are skipped.
   */
  readonly decision: boolean;
}

const stage = (name: string, run: Stage, decision = false): StageEntry => Object.freeze({ name, run, decision });

/** Rate limiting (proxy/pipeline/apply-rate-limit.ts, rate-limit issue) runs through this hook. */
const applyRateLimit: Stage = (ctx) => ctx.deps.hooks.rateLimit(ctx);

// ┌──────────────────────────── the proxy pipeline, in order ────────────────────────────┐
export const PROXY_STAGES: readonly StageEntry[] = Object.freeze([
  stage('assign-request-id', assignRequestId),
  stage('normalize-target', normalizeTarget), //   400 ERR_BAD_PATH before any matching
  stage('match-route', matchRoute), //             403 when unmatched and default: deny
  stage('strip-headers', stripHeaders), //         identity / hop-by-hop / untrusted X-Forwarded-*
  stage('read-credential', readCredential, true), // Authorization: Bearer only
  stage('read-session-cookie', readSessionCookie), // login: redirect routes: the browser-session cookie (docs/oidc.md)
  stage('verify-token', verifyToken, true), //       401; cached by token until its exp
  stage('check-revocation', checkRevocation, true), // 401 ERR_TOKEN_REVOKED, in-memory set
  stage('authorize', authorize, true), //            401 / 403 from the pure policy decision
  stage('apply-rate-limit', applyRateLimit), //      ◀ RATE LIMIT SLOT (429) — after authorization
  stage('inject-identity', injectIdentity), //       X-Auth-* (+ X-Auth-Token), after all stripping
  // then forward.ts: undici pool (HTTP) or http-proxy ws (upgrade); 502 / 504
]);
// └────────────────────────────────────────────────────────────────────────────────────────┘

/** Forward-auth (/auth/verify): the same decision, no forwarding; identity headers go into the answer. */
export const FORWARD_AUTH_STAGES: readonly StageEntry[] = Object.freeze(PROXY_STAGES.filter((s) => s.name !== 'strip-headers'));

export interface ProxyPipeline extends ProxyHandler {
  /** Answer a forward-auth request (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz HTTP). */
  verify(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void>;
  close(): Promise<void>;
}

/** Runs stages from index i; returns undefined when everything ran synchronously (the usual cache-hit path). */
function runFrom(stages: readonly StageEntry[], i: number, ctx: ProxyContext): Promise<void> | undefined {
  for (; i < stages.length; i++) {
    const s = stages[i] as StageEntry;
    if (s.decision && ctx.shadowDenied !== null) continue;
    let r: void | Promise<void>;
    try {
      r = s.run(ctx);
    } catch (err) {
      if (shadowed(ctx, s, err)) continue;
      throw err;
    }
    if (r !== undefined) {
      const next = i + 1;
      return r.then(
        () => runFrom(stages, next, ctx),
        (err: unknown) => {
          if (shadowed(ctx, s, err)) return runFrom(stages, next, ctx);
          throw err;
        },
      );
    }
  }
  return undefined;
}

/** `mode: shadow`: log and count the denial a decision stage produced, and let the request through. */
function shadowed(ctx: ProxyContext, s: StageEntry, err: unknown): boolean {
  if (!s.decision || ctx.route === null || ctx.route.mode !== 'shadow' || !isAppError(err)) return false;
  if (err.status !== 400 && err.status !== 401 && err.status !== 403) return false;
  ctx.shadowDenied = err.detail ?? err.title;
  if (err.status !== 403) {
    // The credential itself was unusable: forward as anonymous, never with an unverified identity.
    ctx.claims = null;
    ctx.identity = null;
  }
  ctx.deps.logger.info(
    { request_id: ctx.requestId, route: ctx.route.name, reason: ctx.shadowDenied, code: err.code, status: err.status, mode: 'shadow' },
    'request would be denied (shadow mode: forwarded)',
  );
  return true;
}

export function createProxyPipeline(app: AppContext): ProxyPipeline {
  const { core, metrics, config } = app;
  const logger = core.logger.child({ component: 'proxy' });
  const forwarder = new Forwarder({ timeoutMs: config.server.upstream_timeout, logger, metrics });
  const deps: PipelineDeps = {
    core,
    logger,
    metrics,
    decisions: new DecisionCounters(metrics.requests),
    trusted: app.trusted,
    policies: app.policies,
    tokenCache: new TokenCache(config.tokens.token_cache_size, core.clock),
    live: app.live,
    forwarder,
    hooks: app.hooks,
    upstreamTokenTtlSeconds: Math.max(1, Math.floor(config.tokens.upstream_token_ttl / 1000)),
  };

  /** One structured decision line per denial; the problem+json goes to the client. */
  function recordDenial(ctx: ProxyContext, err: AppError): void {
    deps.decisions.inc(ctx.route, err.status === 400 ? 'bad_request' : err.status === 429 ? 'rate_limited' : 'deny');
    logger.info(
      { request_id: ctx.requestId, route: ctx.routeName, reason: err.detail ?? err.title, code: err.code, status: err.status, method: ctx.method, path: ctx.path || undefined },
      'request denied',
    );
  }

  function deny(ctx: ProxyContext, res: ServerResponse, raw: unknown): void {
    const err = toAppError(raw);
    if (err.status < 500) recordDenial(ctx, err);
    if (!res.headersSent) res.setHeader('x-request-id', ctx.requestId);
    // A renewed session cookie must reach the browser even on a denial (the old refresh token is spent).
    if (ctx.setCookie !== null && !res.headersSent) res.setHeader('set-cookie', ctx.setCookie);
    if (!res.headersSent && redirectToLogin(ctx, res, err)) return;
    sendProblem(res, raw, { requestId: ctx.requestId, logger, tokenPresented: ctx.tokenPresented });
  }

  // Optional access log (server.access_log): off by default so allowed requests cost no log write.
  const accessLog = config.server.access_log;

  function forward(ctx: ProxyContext, res: ServerResponse): void {
    deps.decisions.inc(ctx.route, ctx.shadowDenied === null ? 'allow' : 'would_deny');
    const started = accessLog ? performance.now() : 0;
    try {
      forwarder.forward(ctx, res, (status, failure) => {
        if (accessLog)
          logger.info(
            { request_id: ctx.requestId, route: ctx.routeName, method: ctx.method, path: ctx.path, status: failure === null ? status : failure.status, user: ctx.identity?.sub, ms: Math.round((performance.now() - started) * 10) / 10 },
            'proxied',
          );
        if (failure !== null) {
          res.setHeader('x-request-id', ctx.requestId);
          if (ctx.setCookie !== null) res.setHeader('set-cookie', ctx.setCookie);
          sendProblem(res, failure, { requestId: ctx.requestId });
        }
      });
    } catch (err) {
      logger.warn({ err, request_id: ctx.requestId, route: ctx.routeName }, 'forwarding failed');
      sendProblem(res, Errors.badGateway(), { requestId: ctx.requestId });
    }
  }

  function denyUpgrade(ctx: ProxyContext, socket: Duplex, raw: unknown): void {
    const err = toAppError(raw);
    if (err.status < 500) recordDenial(ctx, err);
    else logger.error({ err: raw, request_id: ctx.requestId }, 'upgrade failed');
    writeProblemToSocket(socket, err, ctx.requestId, ctx.tokenPresented);
  }

  return {
    handle(req, res, requestId) {
      const ctx = new ProxyContext(deps, req, requestId, 'http', req.method ?? 'GET', req.url ?? '/', req.headers.host ?? null);
      let pending: Promise<void> | undefined;
      try {
        pending = runFrom(PROXY_STAGES, 0, ctx);
      } catch (err) {
        deny(ctx, res, err);
        return;
      }
      if (pending === undefined) forward(ctx, res);
      else pending.then(() => forward(ctx, res), (err: unknown) => deny(ctx, res, err));
    },

    handleUpgrade(req, socket, head, requestId) {
      const ctx = new ProxyContext(deps, req, requestId, 'upgrade', req.method ?? 'GET', req.url ?? '/', req.headers.host ?? null);
      const go = () => {
        deps.decisions.inc(ctx.route, ctx.shadowDenied === null ? 'allow' : 'would_deny');
        forwarder.upgrade(ctx, socket, head);
      };
      let pending: Promise<void> | undefined;
      try {
        pending = runFrom(PROXY_STAGES, 0, ctx);
        if (pending === undefined) go();
      } catch (err) {
        denyUpgrade(ctx, socket, err);
        return;
      }
      pending?.then(go).catch((err: unknown) => denyUpgrade(ctx, socket, err));
    },

    async verify(req, res, requestId) {
      const method = firstHeader(req, 'x-original-method') ?? firstHeader(req, 'x-forwarded-method') ?? req.method ?? 'GET';
      const target = firstHeader(req, 'x-original-uri') ?? firstHeader(req, 'x-forwarded-uri');
      const host = firstHeader(req, 'x-forwarded-host') ?? firstHeader(req, 'x-original-host') ?? req.headers.host ?? null;
      const ctx = new ProxyContext(deps, req, requestId, 'forward-auth', method.toUpperCase(), target ?? '', host);
      try {
        if (target === undefined) throw Errors.badRequest('Forward-auth needs X-Original-URI or X-Forwarded-Uri.', 'ERR_FORWARD_AUTH_HEADERS');
        await runFrom(FORWARD_AUTH_STAGES, 0, ctx);
      } catch (raw) {
        let err = toAppError(raw);
        // nginx auth_request only understands 2xx/401/403 (anything else becomes a 500): a request path that
        // cannot be normalised is refused as 403, keeping its code.
        if (err.status === 400) err = new AppError(err.code, 403, 'Forbidden', { detail: err.detail ?? err.title });
        deny(ctx, res, err);
        return;
      }
      deps.decisions.inc(ctx.route, ctx.shadowDenied === null ? 'allow' : 'would_deny');
      const headers: Record<string, string> = { 'cache-control': 'no-store', 'x-request-id': ctx.requestId, 'content-length': '0' };
      const injected = ctx.upstreamHeaders;
      for (let i = 0; i < injected.length; i += 2) headers[(injected[i] as string).toLowerCase()] = injected[i + 1] as string;
      res.writeHead(200, headers);
      res.end();
    },

    async close() {
      app.live.closeEverything();
      await forwarder.close();
    },
  };
}

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

/** A denial before the WebSocket handshake: a plain HTTP response on the raw socket, then close. */
function writeProblemToSocket(socket: Duplex, err: AppError, requestId: string, tokenPresented: boolean): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(problemBody(err, requestId));
  const lines = [
    `HTTP/1.1 ${err.status} ${err.title}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    `X-Request-Id: ${requestId}`,
    'Connection: close',
  ];
  if (err.status === 401) {
    lines.push(tokenPresented || err.extra?.token_error === true ? 'WWW-Authenticate: Bearer realm="authgate", error="invalid_token"' : 'WWW-Authenticate: Bearer realm="authgate"');
  }
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) lines.push(`${k}: ${v}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
