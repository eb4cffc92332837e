// The server's composition root: core services, metrics, routes, proxy pipeline and the HTTP server,
// built once from the validated config. Tests start it on port 0 through startApp().
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config.schema.js';
import { createCore, type Core, type CoreOptions } from '../core/container.js';
import { Router } from './http/router.js';
import { TrustedProxies } from './http/client-ip.js';
import { createMetrics, type Metrics } from './metrics.js';
import { registerAuthRoutes } from './handlers/auth.handlers.js';
import { registerAdminRoutes } from './handlers/admin.handlers.js';
import { registerAuditRoutes } from './handlers/audit.handlers.js';
import { startAuditRetention } from '../core/audit/audit-query.js';
import { registerEmailRoutes } from './handlers/email.handlers.js';
import { registerOpsRoutes, type ReadinessCheck } from './handlers/ops.handlers.js';
import { createProxyPipeline } from './pipeline/index.js';
import { createApplyRateLimit } from './pipeline/apply-rate-limit.js';
import type { RateLimitHook } from './pipeline/request-context.js';
import { PolicyStore, loadInitialPolicy } from './policy-store.js';
import { LiveConnections } from './live-connections.js';
import { registerForwardAuthRoutes } from './handlers/forward-auth.handlers.js';
import { registerOAuthRoutes } from './handlers/oauth.handlers.js';
import { registerDiscoveryRoutes } from './handlers/discovery.handlers.js';
import { createHttpServer } from './server.js';

/** Everything request handlers and pipeline stages may use; built once per server. */
export interface AppContext {
  readonly config: Config;
  readonly core: Core;
  readonly metrics: Metrics;
  readonly router: Router;
  readonly trusted: TrustedProxies;
  readonly readiness: ReadinessCheck[];
  /** The policies.yaml in force (hot-reloaded; `policies.reload()` on SIGHUP). */
  readonly policies: PolicyStore;
  /** Live WebSocket / streaming connections by session and user, for revocation cut-off. */
  readonly live: LiveConnections;
  /** Pipeline hooks; `rateLimit` is a no-op until the rate limiter is wired (runs after authorize). */
  readonly hooks: { rateLimit: RateLimitHook };
  /** Cleanup hooks run on close, in reverse order. */
  readonly onClose: Array<() => Promise<void> | void>;
}

export interface App {
  readonly context: AppContext;
  readonly server: Server;
  readonly url: string;
  readonly port: number;
  /** Stops accepting, finishes in-flight requests (bounded by drain_timeout), closes resources. */
  close(): Promise<void>;
}

export type StartOptions = CoreOptions;

export async function startApp(config: Config, options: StartOptions = {}): Promise<App> {
  // An invalid policies.yaml at start is a configuration error (exit 78), before anything is opened.
  const initialPolicy = await loadInitialPolicy(config.policies.file);
  const core = await createCore(config, { revocationPollMs: 500, ...options });
  const metrics = createMetrics();
  const router = new Router();
  const policies = new PolicyStore(initialPolicy, {
    file: config.policies.file,
    logger: core.logger.child({ component: 'policies' }),
    metrics,
    watch: config.policies.watch,
    onLoad: (policy) => core.setPermissionsResolver(policy.permissionsFor),
    audit: core.audit,
  });
  const context: AppContext = {
    config,
    core,
    metrics,
    router,
    trusted: new TrustedProxies(config.server.trusted_proxies),
    readiness: [],
    policies,
    live: new LiveConnections(),
    hooks: { rateLimit: createApplyRateLimit(core.rateLimits.routes, metrics) },
    onClose: [],
  };
  // Rate limits (docs/rate-limits.md): fallback gauge, and /readyz answers 503 with checks.redis = 'down'
  // while a configured Redis is unreachable (SPEC §3; requests are still served by the insurance limiter).
  context.onClose.push(core.rateLimits.store.onFallbackChange((on) => metrics.rateLimiterFallback.set(on ? 1 : 0)));
  if (core.rateLimits.store.backend === 'redis') context.readiness.push({ name: 'redis', check: () => core.rateLimits.store.ping() });
  registerOpsRoutes(router, core, metrics, () => context.readiness);
  registerAuthRoutes(router, config.server.auth_prefix, { core, bodyLimit: config.server.body_limit });
  registerAdminRoutes(router, '/admin', { core, bodyLimit: config.server.body_limit });
  registerAuditRoutes(router, '/admin', { core });
  // Hourly audit retention purge (replicas serialise on the audit append lock; docs/audit.md).
  context.onClose.push(startAuditRetention(core.auditQuery, core.logger, 3_600_000));
  registerEmailRoutes(router, config.server.auth_prefix, { core, bodyLimit: config.server.body_limit });
  registerOAuthRoutes(router, { core, bodyLimit: config.server.body_limit });
  registerDiscoveryRoutes(router, config);
  const proxy = createProxyPipeline(context);
  registerForwardAuthRoutes(router, config.server.auth_prefix, proxy);
  context.onClose.push(() => proxy.close());
  await policies.start();
  context.onClose.push(() => policies.close());
  // Live cut-off (issue 5): a revoked session, user or tenant loses its open WebSockets and streamed
  // responses at once — the bus delivers the event within 1 s on every replica.
  const offRevoked = core.revocation.onRevoked((e) => {
    if (e.kind === 'session') context.live.closeSession(e.id);
    else if (e.kind === 'user') context.live.closeUser(e.id);
    else context.live.closeTenant(e.id);
  });
  context.onClose.push(offRevoked);
  await core.revocation.start();
  // Hourly purge of sessions ended longer than tokens.session_retention (unref'd: never holds the process).
  core.sessionCleanup.schedule();
  // Keys rotated or retired by `authctl` in another process reach this one within 10 s (JWKS, signing, verify).
  const keyReload = setInterval(() => {
    core.keys.reload().catch((err: unknown) => core.logger.warn({ err }, 'signing key reload failed'));
  }, 10_000);
  keyReload.unref();
  context.onClose.push(() => clearInterval(keyReload));
  const server = createHttpServer({
    router,
    proxy,
    trusted: context.trusted,
    logger: core.logger,
    metrics,
    limitOwnEndpoint: (path, ip) => core.rateLimits.authEndpoints.check(path, ip),
    timeouts: {
      headersMs: config.server.headers_timeout,
      requestMs: config.server.request_timeout,
      keepAliveMs: config.server.keep_alive_timeout,
    },
    maxHeaderCount: config.server.max_header_count,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (config.server.metrics_port !== undefined) {
    const metricsServer = await startMetricsServer(metrics, config.server.host, config.server.metrics_port);
    context.onClose.push(() => new Promise<void>((resolve) => metricsServer.close(() => resolve())));
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  let closing: Promise<void> | undefined;
  return {
    context,
    server,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close() {
      closing ??= (async () => {
        await drain(server, config.server.drain_timeout);
        for (const fn of [...context.onClose].reverse()) await fn();
        await core.close();
      })();
      return closing;
    },
  };
}

/** Graceful stop: refuse new connections, let in-flight requests finish, then cut what is left. */
async function drain(server: Server, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, timeoutMs);
    timer.unref();
    // Keep-alive connections that finish their last in-flight response become idle later; sweep them so the
    // exit does not wait out keep_alive_timeout (issue 10: rolling restart).
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    server.close(() => {
      clearTimeout(timer);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** A separate listener serving only GET /metrics (server.metrics_port), kept off the public port. */
async function startMetricsServer(metrics: Metrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
