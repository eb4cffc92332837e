// The browser-session and CSRF cookies: names, attributes and parsing. On an https PUBLIC_URL the session
// cookie is `__Host-authgate` (the prefix forces Secure, Path=/ and no Domain, so a sibling subdomain cannot
// plant or overwrite it); on plain http (local development) browsers refuse `__Host-`/Secure cookies, so
// it is `authgate_session` without Secure. Always HttpOnly, SameSite=Lax, Path=/.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../../config/config.schema.js';

export interface CookieNames {
  session: string;
  csrf: string;
  secure: boolean;
}

export function cookieNames(config: Config): CookieNames {
  const secure = config.server.public_url.startsWith('https://');
  return secure
    ? { session: '__Host-authgate', csrf: '__Host-authgate-csrf', secure }
    : { session: 'authgate_session', csrf: 'authgate_csrf', secure };
}

/** The value of one cookie in a Cookie header (first occurrence), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.indexOf(name) === -1) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function requestCookie(req: IncomingMessage, name: string): string | undefined {
  return readCookie(req.headers.cookie, name);
}

/** The Cookie header without the named cookie (authgate's session never reaches an upstream); null when empty. */
export function withoutCookie(header: string, name: string): string | null {
  const kept = header
    .split(';')
    .filter((part) => {
      const eq = part.indexOf('=');
      return (eq === -1 ? part : part.slice(0, eq)).trim() !== name;
    })
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return kept.length ? kept.join('; ') : null;
}

export function serializeCookie(
  name: string,
  value: string,
  options: { secure: boolean; maxAgeSec?: number; sameSite?: 'Lax' | 'Strict'; path?: string },
): string {
  const parts = [`${name}=${value}`, `Path=${options.path ?? '/'}`, 'HttpOnly', `SameSite=${options.sameSite ?? 'Lax'}`];
  if (options.secure) parts.push('Secure');
  if (options.maxAgeSec !== undefined) parts.push(`Max-Age=${options.maxAgeSec}`);
  return parts.join('; ');
}

export function sessionCookie(names: CookieNames, value: string, maxAgeSec: number): string {
  return serializeCookie(names.session, value, { secure: names.secure, maxAgeSec });
}

export function clearSessionCookie(names: CookieNames): string {
  return serializeCookie(names.session, '', { secure: names.secure, maxAgeSec: 0 });
}
