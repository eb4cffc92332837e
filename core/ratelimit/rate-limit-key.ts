// Pure rate-limit key choice: which bucket a request counts against for a route's `by:` setting, and the
// canonical form of a client address (IPv4-mapped IPv6 → IPv4, IPv6 → its /64). No I/O, table-tested.
import { isIP } from 'node:net';
import type { RateLimitKey } from '../policy/types.js';

/** The identity a verified token gives; null for anonymous requests (public routes). */
export interface RateLimitIdentity {
  readonly sub: string;
  readonly tid: string;
}

/** Expands an IPv6 address (no zone id) to 8 groups of 4 hex digits, or null when it is not one. */
function expandIPv6(ip: string): string[] | null {
  let text = ip;
  // A dotted IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) is rewritten as two hex groups first.
  const lastColon = text.lastIndexOf(':');
  const v4 = text.slice(lastColon + 1);
  if (v4.includes('.')) {
    if (isIP(v4) !== 4) return null;
    const o = v4.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  return groups.map((g) => g.toLowerCase().padStart(4, '0'));
}

/**
 * Canonical bucket for a client address. IPv4-mapped IPv6 (`::ffff:1.2.3.4`, also in hex form) counts as
 * the IPv4 address, so a dual-stack listener cannot be used to get two buckets. An IPv6 client usually
 * controls a whole /64 (RFC 4291 §2.5.1 interface identifiers; SLAAC privacy addresses, RFC 8981), so
 * keying by full address would hand it 2^64 buckets: IPv6 is keyed by its /64 prefix.
 */
export function ipBucket(raw: string | null | undefined): string {
  if (!raw) return 'unknown';
  let ip = raw.trim();
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  const zone = ip.indexOf('%');
  if (zone !== -1) ip = ip.slice(0, zone);
  const family = isIP(ip);
  if (family === 4) return ip;
  if (family !== 6) return 'unknown';
  const groups = expandIPv6(ip);
  if (!groups) return 'unknown';
  if (groups.slice(0, 5).every((g) => g === '0000') && groups[5] === 'ffff') {
    const hi = parseInt(groups[6]!, 16);
    const lo = parseInt(groups[7]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/**
 * The key a request counts against inside one route's limiter. `user` and `tenant` need an identity; an
 * anonymous request on such a route (a public route, or before authentication) falls back to its IP so it
 * is still limited rather than sharing one global bucket with every other anonymous caller.
 */
export function rateLimitKey(by: RateLimitKey, identity: RateLimitIdentity | null, clientIp: string | null): string {
  switch (by) {
    case 'user':
      return identity ? `user:${identity.sub}` : `ip:${ipBucket(clientIp)}`;
    case 'tenant':
      return identity ? `tenant:${identity.tid}` : `ip:${ipBucket(clientIp)}`;
    case 'route':
      return 'route';
    case 'ip':
      return `ip:${ipBucket(clientIp)}`;
  }
}
