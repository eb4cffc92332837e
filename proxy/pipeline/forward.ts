// Stage: forward the authorised request. HTTP goes through an undici Pool per upstream origin (keep-alive,
// bodies streamed both ways with no buffering); WebSocket upgrades through http-proxy's `ws`. Upstream
// failures become 502 (unreachable) / 504 (timeout) problem+json and never crash the process.
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import httpProxy from 'http-proxy';
import { Pool, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { Histogram } from 'prom-client';
import { Errors, type AppError } from '../../core/errors.js';
import type { Metrics } from '../metrics.js';
import { connectionListed } from './strip-headers.js';
import type { ProxyContext } from './request-context.js';

/** One upstream as the forwarder uses it: its pool, base path and latency histogram child. */
class UpstreamTarget {
  constructor(
    readonly name: string,
    readonly origin: string,
    /** The upstream URL's path without a trailing slash ('' for `/`), prefixed to the forwarded path. */
    readonly basePath: string,
    readonly pool: Pool,
    readonly latency: Histogram.Internal<'upstream'>,
    readonly wsTarget: { protocol: string; host: string; hostname: string; port: string; path: string },
  ) {}
}

export interface ForwarderOptions {
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Maximum keep-alive connections per upstream origin. */
  readonly connections?: number;
}

// Response headers that describe this hop only (RFC 9110 §7.6.1).
const RESPONSE_HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate'];

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export class Forwarder {
  private readonly pools = new Map<string, Pool>();
  // Keyed by the policy's frozen upstream URL object: a reload brings new URL objects (and the same
  // origin reuses its pool), a request in flight keeps the target of the policy it started with.
  private readonly targets = new WeakMap<URL, UpstreamTarget>();
  private readonly wsProxy: httpProxy;
  private closed = false;

  constructor(private readonly options: ForwarderOptions) {
    // toProxy: send req.url (already the normalised path) as-is instead of re-parsing it with url.parse,
    // which would re-escape characters and could disagree with what was matched.
    this.wsProxy = httpProxy.createProxyServer({ ws: true, xfwd: false, toProxy: true, proxyTimeout: options.timeoutMs });
    this.wsProxy.on('error', (err, _req, socket) => {
      options.logger.warn({ err: { code: (err as NodeJS.ErrnoException).code, message: err.message } }, 'websocket upstream error');
      if (socket && 'destroy' in socket) (socket as Duplex).destroy();
    });
  }

  target(url: URL, name: string): UpstreamTarget {
    let t = this.targets.get(url);
    if (t !== undefined) return t;
    const origin = url.origin;
    let pool = this.pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections: this.options.connections ?? 256,
        pipelining: 1,
        keepAliveTimeout: 4_000,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        connectTimeout: Math.min(this.options.timeoutMs, 10_000),
      });
      this.pools.set(origin, pool);
    }
    const basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
    t = new UpstreamTarget(name, origin, basePath, pool, this.options.metrics.upstreamLatency.labels(name), {
      protocol: url.protocol,
      host: url.hostname,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port,
      path: '',
    });
    this.targets.set(url, t);
    return t;
  }

  /** Forward a plain HTTP request and stream the answer back. Calls `done` when the exchange is over. */
  forward(ctx: ProxyContext, res: ServerResponse, done: (status: number, failure: AppError | null) => void): void {
    const route = ctx.route;
    if (route === null || route.upstreamUrl === null || route.upstream === null) throw new TypeError('forward needs a route with an upstream');
    const target = this.target(route.upstreamUrl, route.upstream);
    const req = ctx.req;
    const headers = req.headers;
    const hasBody = headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
    const started = performance.now();
    const claims = ctx.claims;
    // A response still streaming belongs to a session: revoking it must be able to cut it.
    const untrack = claims === null ? null : ctx.deps.live.track(claims.sid, () => res.destroy(), claims.sub, claims.tid);
    let responded = false;
    const options: Dispatcher.RequestOptions<null> = {
      method: ctx.method as Dispatcher.HttpMethod,
      path: target.basePath + ctx.path + (ctx.query === '' ? '' : `?${ctx.query}`),
      headers: ctx.upstreamHeaders,
      body: hasBody ? req : null,
    };
    target.pool.stream(
      options,
      ({ statusCode, headers: upstreamHeaders }) => {
        responded = true;
        target.latency.observe((performance.now() - started) / 1000);
        const out = responseHeaders(upstreamHeaders);
        out['x-request-id'] ??= ctx.requestId;
        // authgate's own limit is the one this client hits first (draft-ietf-httpapi-ratelimit-headers).
        if (ctx.rateLimitHeaders !== null) Object.assign(out, ctx.rateLimitHeaders);
        // A renewed authgate session cookie (read-session-cookie) joins the upstream's own Set-Cookie headers.
        if (ctx.setCookie !== null) {
          const prev = out['set-cookie'];
          out['set-cookie'] = prev === undefined ? [ctx.setCookie] : [...(Array.isArray(prev) ? prev : [prev]), ctx.setCookie];
        }
        res.writeHead(statusCode, out);
        return res;
      },
      (err) => {
        untrack?.();
        if (err === null) {
          done(res.statusCode, null);
          return;
        }
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (responded || res.headersSent || res.destroyed) {
          // Mid-stream failure (or the client went away): nothing sensible can be sent; cut the connection.
          res.destroy();
          done(res.statusCode, null);
          return;
        }
        const failure = TIMEOUT_CODES.has(code) ? Errors.gatewayTimeout() : Errors.badGateway();
        this.options.logger.warn(
          { request_id: ctx.requestId, route: route.name, upstream: target.name, code, status: failure.status },
          failure.status === 504 ? 'upstream timed out' : 'upstream request failed',
        );
        done(failure.status, failure);
      },
    );
  }

  /** Proxy an authorised WebSocket upgrade (headers already built by strip-headers + inject-identity). */
  upgrade(ctx: ProxyContext, socket: Duplex, head: Buffer): void {
    const route = ctx.route;
    if (route === null || route.upstreamUrl === null || route.upstream === null) throw new TypeError('upgrade needs a route with an upstream');
    const target = this.target(route.upstreamUrl, route.upstream);
    const req = ctx.req;
    req.url = target.basePath + ctx.path + (ctx.query === '' ? '' : `?${ctx.query}`);
    req.headers = headersObject(ctx.upstreamHeaders);
    const claims = ctx.claims;
    if (claims !== null) {
      const untrack = ctx.deps.live.track(claims.sid, () => socket.destroy(), claims.sub, claims.tid);
      socket.once('close', untrack);
    }
    this.wsProxy.ws(req, socket, head, { target: target.wsTarget });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wsProxy.close();
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => undefined)));
  }
}

/** Upstream response headers minus this hop's (and those the upstream listed in Connection). */
export function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const connection = headers.connection;
  const listed = connectionListed(typeof connection === 'string' ? connection : undefined);
  for (const h of RESPONSE_HOP_BY_HOP) if (headers[h] !== undefined) delete headers[h];
  if (listed !== null) for (const h of listed) delete headers[h];
  return headers;
}

/** Flat [name, value, …] → a header object for http-proxy (duplicates joined as RFC 9110 §5.3 allows). */
export function headersObject(flat: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = (flat[i] as string).toLowerCase();
    const value = flat[i + 1] as string;
    const prev = out[name];
    out[name] = prev === undefined ? value : `${prev}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return out;
}
