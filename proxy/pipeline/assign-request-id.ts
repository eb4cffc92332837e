// Stage: the request id. authgate's own id unless a trusted proxy in front already assigned one, so one id
// follows the request through every hop's logs. Untrusted clients cannot choose the id (log forging).
import type { ProxyContext } from './request-context.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function assignRequestId(ctx: ProxyContext): void {
  if (!ctx.peerTrusted) return;
  const incoming = ctx.req.headers['x-request-id'];
  if (typeof incoming === 'string' && REQUEST_ID.test(incoming)) ctx.requestId = incoming;
}
