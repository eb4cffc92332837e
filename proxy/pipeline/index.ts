// The proxy pipeline entry. (Placeholder until the pipeline stages land: denies every proxied request.)
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Errors } from '../../core/errors.js';
import { sendProblem } from '../http/problem.js';
import type { ProxyHandler } from '../server.js';
import type { AppContext } from '../app.js';

export function createProxyPipeline(_app: AppContext): ProxyHandler & { close(): void } {
  return {
    handle(_req: IncomingMessage, res: ServerResponse, requestId: string) {
      sendProblem(res, Errors.forbidden('No route matches this request.', 'ERR_NO_ROUTE'), { requestId });
    },
    handleUpgrade(_req: IncomingMessage, socket: Duplex) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    },
    close() {},
  };
}
