// Stage: build the header list sent upstream from the client's headers, minus everything a client must not
// be able to set: identity headers (by normalised name), hop-by-hop headers and those listed in Connection,
// and forwarding headers from untrusted peers. Then authgate's own X-Forwarded-*/Forwarded are added.
// Identity headers are injected later (inject-identity), so Connection cannot remove them.
import { needsIdentity } from '../../core/policy/index.js';
import type { ProxyContext } from './request-context.js';

// RFC 9110 §7.6.1 hop-by-hop fields, plus legacy ones. `expect` is answered by this server (100-continue).
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings',
  'proxy-authorization', 'proxy-authenticate', 'expect',
]);
// Never removable through `Connection:` — dropping them would change the request's target or framing.
const CONNECTION_PROTECTED: ReadonlySet<string> = new Set(['host', 'content-length', 'content-type']);
// Tokens that are Connection options, not header names.
const CONNECTION_OPTIONS: ReadonlySet<string> = new Set(['close', 'keep-alive', 'upgrade']);

/** Lower-case and `_` → `-`: oauth2-proxy CVE-2025-64484 — `X_Auth_User` reached upstreams that read it as X-Auth-User. */
export function normalizeHeaderName(lower: string): string {
  return lower.indexOf('_') === -1 ? lower : lower.replaceAll('_', '-');
}

/** Header names listed in `Connection:` (RFC 9110 §7.6.1), or null when there are none. */
export function connectionListed(value: string | undefined): Set<string> | null {
  if (value === undefined || value === '') return null;
  let set: Set<string> | null = null;
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '' || CONNECTION_OPTIONS.has(name)) continue;
    (set ??= new Set()).add(name);
  }
  return set;
}

// RFC 7239 §6: IPv6 node names are bracketed and quoted; quoted-strings escape `"` and `\`.
function forwardedNode(ip: string): string {
  return ip.includes(':') ? `"[${ip}]"` : ip;
}
// Host values have already passed Node's header parser (no CR/LF); drop what would break the quoting.
const QUOTE_UNSAFE = /["\\]/g;
function quoted(value: string): string {
  return `"${value.replace(QUOTE_UNSAFE, '')}"`;
}

export function stripHeaders(ctx: ProxyContext): void {
  const req = ctx.req;
  const out = ctx.upstreamHeaders;
  const ih = ctx.policy.identityHeaders;
  const stripPrefix = ih.stripPrefix;
  const identityNames = ih.all;
  // On routes where authgate authenticates, the bearer token was for authgate: do not pass it on
  // (upstreams that verify tokens themselves get the short-lived X-Auth-Token instead).
  const dropAuthorization = ctx.route !== null && needsIdentity(ctx.route);
  const trusted = ctx.peerTrusted;
  const connection = req.headers.connection;
  const listed = connectionListed(typeof connection === 'string' ? connection : undefined);
  const host = req.headers.host;
  let xff: string | null = null;
  let proto: string | null = null;
  let fwdHost: string | null = null;
  let forwarded: string | null = null;

  if (host !== undefined) out.push('host', host);
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === 'host' || HOP_BY_HOP.has(lower)) continue;
    const normalized = normalizeHeaderName(lower);
    if (normalized.startsWith(stripPrefix) || identityNames.includes(normalized)) continue;
    if (normalized.startsWith('x-forwarded-') || normalized === 'forwarded' || normalized === 'x-real-ip') {
      // RFC 7239 §8.1: only a trusted hop's forwarding information is kept (and appended to).
      if (!trusted || normalized !== lower) continue;
      if (lower === 'x-forwarded-for') xff = xff === null ? value : `${xff}, ${value}`;
      else if (lower === 'x-forwarded-proto') proto ??= value;
      else if (lower === 'x-forwarded-host') fwdHost ??= value;
      else if (lower === 'forwarded') forwarded = forwarded === null ? value : `${forwarded}, ${value}`;
      else out.push(name, value);
      continue;
    }
    if (lower === 'x-request-id') continue; // ours is added below
    if (dropAuthorization && lower === 'authorization') continue;
    if (listed !== null && listed.has(lower) && !CONNECTION_PROTECTED.has(lower)) continue;
    out.push(name, value);
  }

  const peer = ctx.peer;
  const scheme = proto ?? 'http';
  const forwardedHost = fwdHost ?? host ?? '';
  out.push('x-forwarded-for', xff === null ? peer : `${xff}, ${peer}`);
  out.push('x-forwarded-proto', scheme);
  if (forwardedHost !== '') out.push('x-forwarded-host', forwardedHost);
  const element = `for=${forwardedNode(peer)};proto=${scheme === 'https' ? 'https' : 'http'}${host === undefined ? '' : `;host=${quoted(host)}`}`;
  out.push('forwarded', forwarded === null ? element : `${forwarded}, ${element}`);
  out.push('x-request-id', ctx.requestId);
  if (ctx.kind === 'upgrade') {
    const upgrade = req.headers.upgrade;
    out.push('connection', 'Upgrade', 'upgrade', typeof upgrade === 'string' ? upgrade : 'websocket');
  }
}
