// Stage: normalise the request-target once (SPEC §5). The resulting path is the one matched AND the one
// forwarded; the query is kept byte-for-byte and never matched. Ambiguous paths are a 400 before matching.
import { normalizeRequestTarget } from '../../core/policy/index.js';
import type { ProxyContext } from './request-context.js';

export function normalizeTarget(ctx: ProxyContext): void {
  const target = normalizeRequestTarget(ctx.rawTarget);
  ctx.path = target.path;
  ctx.query = target.query;
}
