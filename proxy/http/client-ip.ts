// Client address: the socket peer, or the right-most untrusted X-Forwarded-For hop when the peer is a
// configured trusted proxy. IPv4-mapped IPv6 is canonicalised to IPv4.
import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

export function canonicalIp(ip: string): string {
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) return ip.slice(7);
  return ip.toLowerCase();
}

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) {
      const [addr, bits] = c.split('/');
      if (!addr) continue;
      const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(addr, family);
      else this.list.addSubnet(addr, Number(bits), family);
    }
    this.empty = cidrs.length === 0;
  }

  trusts(ip: string): boolean {
    if (this.empty || !ip) return false;
    return this.list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
  }

  /** Walks X-Forwarded-For from the right, skipping trusted hops (RFC 7239 §7.4 reasoning). */
  clientIp(req: IncomingMessage): string {
    const peer = canonicalIp(req.socket.remoteAddress ?? '');
    if (this.empty || !this.trusts(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header.join(',') : header;
    if (!value) return peer;
    const hops = value.split(',').map((h) => canonicalIp(h.trim())).filter((h) => isIP(h) !== 0);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (!this.trusts(hop)) return hop;
    }
    return hops[0] ?? peer;
  }
}
