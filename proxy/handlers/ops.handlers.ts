// Operational endpoints: /healthz (alive), /readyz (database and Redis reachable), /metrics, JWKS.
import type { Core } from '../../core/container.js';
import type { Metrics } from '../metrics.js';
import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

export function registerOpsRoutes(router: Router, core: Core, metrics: Metrics, extraChecks: () => ReadinessCheck[]): void {
  router.add('GET', '/healthz', async (ctx) => {
    sendJson(ctx.res, 200, { status: 'ok' });
  });

  router.add('GET', '/readyz', async (ctx) => {
    const checks: Record<string, 'ok' | 'down'> = {};
    checks.database = (await withTimeout(core.db.ping(), 2000)) ? 'ok' : 'down';
    for (const c of extraChecks()) checks[c.name] = (await withTimeout(c.check(), 2000)) ? 'ok' : 'down';
    const ready = Object.values(checks).every((v) => v === 'ok');
    sendJson(ctx.res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', checks }, ready ? {} : { 'retry-after': '5' });
  });

  // With server.metrics_port set, /metrics lives only on that port (proxy/app.ts startMetricsServer).
  if (core.config.server.metrics_port === undefined)
    router.add('GET', '/metrics', async (ctx) => {
      const text = await metrics.registry.metrics();
      ctx.res.writeHead(200, { 'content-type': metrics.registry.contentType });
      ctx.res.end(text);
    });

  router.add('GET', '/.well-known/jwks.json', async (ctx) => {
    sendJson(ctx.res, 200, core.keys.jwks(), { 'cache-control': 'public, max-age=300' });
  });
}

async function withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
