// The HTTP server: assigns a request id, sends authgate's own endpoints to the router and everything
// else to the proxy pipeline, applies server timeouts (slowloris) and drains on shutdown.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError, Errors } from '../core/errors.js';
import { rateLimitError, rateLimitHeaders, type RateLimitOutcome } from '../core/ratelimit/rate-limit.js';
import { sendProblem } from './http/problem.js';
import { bearerToken, type Router } from './http/router.js';
import type { TrustedProxies } from './http/client-ip.js';
import type { Metrics } from './metrics.js';

/** What the proxy pipeline (proxy/pipeline) offers the server. */
export interface ProxyHandler {
  handle(req: IncomingMessage, res: ServerResponse, requestId: string): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, requestId: string): void;
}

export interface ServerDeps {
  router: Router;
  proxy: ProxyHandler;
  trusted: TrustedProxies;
  logger: Logger;
  metrics: Metrics;
  timeouts: { headersMs: number; requestMs: number; keepAliveMs: number };
  /** More header fields than this → 431 (server.max_header_count; default 200). */
  maxHeaderCount?: number;
  /** Per-IP limits on sensitive authgate endpoints (core/ratelimit/auth-endpoint-limits.ts); null = not limited. */
  limitOwnEndpoint?: (path: string, clientIp: string) => Promise<RateLimitOutcome | null>;
}

/** Path of the request target without query, for routing authgate's own endpoints. */
function ownPath(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** A header flood (issue 10): refused before anything is parsed further or forwarded. */
function tooManyHeaders(res: ServerResponse): void {
  res.shouldKeepAlive = false;
  sendProblem(res, new AppError('ERR_HEADERS_TOO_LARGE', 431, 'Request header fields too large', { detail: 'Too many header fields.', expose: true }), {
    requestId: randomUUID(),
  });
}

export function createHttpServer(deps: ServerDeps): Server {
  const { router, proxy, logger, metrics, trusted } = deps;
  const maxHeaderCount = deps.maxHeaderCount ?? 200;
  const server = createServer(
    {
      requestTimeout: deps.timeouts.requestMs,
      headersTimeout: deps.timeouts.headersMs,
      keepAliveTimeout: deps.timeouts.keepAliveMs,
      // Node only enforces headersTimeout/requestTimeout when it sweeps connections, every 30 s by default:
      // a slowloris client got up to 30 s more than configured. Sweep at least once a second (issue 10).
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(Math.min(deps.timeouts.headersMs, deps.timeouts.requestMs) / 2))),
      maxHeaderSize: 16 * 1024,
      // Reject, rather than repair, ambiguous framing (request smuggling).
      insecureHTTPParser: false,
    },
    (req, res) => {
      if (req.rawHeaders.length > maxHeaderCount * 2) {
        tooManyHeaders(res);
        return;
      }
      const requestId = randomUUID();
      const url = req.url ?? '/';
      const path = ownPath(url);
      if (!router.owns(path) || !url.startsWith('/')) {
        proxy.handle(req, res, requestId);
        return;
      }
      void dispatch(req, res, requestId, path, url);
    },
  );

  // One more than the limit, so a flood is detectable (Node silently drops fields past maxHeadersCount).
  server.maxHeadersCount = maxHeaderCount + 1;

  async function dispatch(req: IncomingMessage, res: ServerResponse, requestId: string, path: string, url: string): Promise<void> {
    const tokenPresented = bearerToken(req) !== null;
    res.setHeader('x-request-id', requestId);
    try {
      const found = router.find(req.method ?? 'GET', path);
      if (!found) {
        // Unknown path under an authgate prefix: fall through to the proxy (policies decide).
        proxy.handle(req, res, requestId);
        return;
      }
      if ('methodNotAllowed' in found) {
        res.setHeader('allow', found.allow.join(', '));
        throw Errors.methodNotAllowed();
      }
      // An encoded NUL in a path parameter or the query reached SQL as a 500 (SQLite cut the statement at
      // it, PostgreSQL refuses it in text): refuse it up front (issue 10; llhttp already rejects a raw NUL).
      if (url.includes('%00')) throw Errors.badRequest('The request target must not contain NUL characters.', 'ERR_BAD_ENCODING');
      const ip = trusted.clientIp(req);
      // Login, refresh, register, password reset, email verification: counted per client IP before the
      // handler runs (429 + Retry-After + RateLimit-*; docs/rate-limits.md).
      const limit = deps.limitOwnEndpoint ? await deps.limitOwnEndpoint(path, ip) : null;
      if (limit !== null) {
        if (!limit.allowed) throw rateLimitError(limit);
        for (const [name, value] of Object.entries(rateLimitHeaders(limit))) res.setHeader(name, value);
      }
      const ua = req.headers['user-agent'];
      await found.handler({
        req,
        res,
        path,
        query: new URLSearchParams(url.slice(path.length + 1)),
        params: found.params,
        meta: { ip, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null },
        requestId,
      });
    } catch (err) {
      sendProblem(res, err, { requestId, logger, tokenPresented });
    } finally {
      metrics.authEndpoint.inc({ status: `${Math.floor(res.statusCode / 100)}xx` });
    }
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (req.rawHeaders.length > maxHeaderCount * 2) {
      rawProblem(socket, 431, 'Request header fields too large', 'ERR_HEADERS_TOO_LARGE');
      return;
    }
    proxy.handleUpgrade(req, socket, head, randomUUID());
  });

  // CONNECT (tunnelling) is not offered: without a listener Node would just drop the socket; answer 405.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    rawProblem(socket, 405, 'Method not allowed', 'ERR_METHOD_NOT_ALLOWED');
  });

  function rawProblem(socket: Duplex, status: number, title: string, code: string): void {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ type: 'about:blank', title, status, code });
    socket.end(`HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const title = status === 431 ? 'Request header fields too large' : status === 408 ? 'Request timeout' : 'Bad request';
    const body = JSON.stringify({ type: 'about:blank', title, status, code: err.code === 'HPE_HEADER_OVERFLOW' ? 'ERR_HEADERS_TOO_LARGE' : 'ERR_BAD_REQUEST' });
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
