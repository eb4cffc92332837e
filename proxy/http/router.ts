// A small router for authgate's own endpoints: exact paths in a Map, `:param` paths grouped by
// segment count. Built once at start-up; the proxied traffic never goes through it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestMeta } from '../../core/services/auth.service.js';

export interface HandlerContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly params: Record<string, string>;
  readonly meta: RequestMeta;
  readonly requestId: string;
}

export type Handler = (ctx: HandlerContext) => Promise<void>;

interface ParamRoute {
  segments: string[];
  handlers: Map<string, Handler>;
}

export type RouteLookup = { handler: Handler; params: Record<string, string> } | { methodNotAllowed: true; allow: string[] } | null;

export class Router {
  private readonly exact = new Map<string, Map<string, Handler>>();
  private readonly byLength = new Map<number, ParamRoute[]>();
  private readonly prefixes = new Set<string>();

  add(method: string | string[], path: string, handler: Handler): this {
    const methods = Array.isArray(method) ? method : [method];
    const first = path.split('/')[1] ?? '';
    this.prefixes.add(`/${first}`);
    if (!path.includes(':')) {
      const m = this.exact.get(path) ?? new Map<string, Handler>();
      for (const x of methods) m.set(x, handler);
      this.exact.set(path, m);
      return this;
    }
    const segments = path.split('/').slice(1);
    const list = this.byLength.get(segments.length) ?? [];
    let route = list.find((r) => r.segments.join('/') === segments.join('/'));
    if (!route) {
      route = { segments, handlers: new Map() };
      list.push(route);
    }
    for (const x of methods) route.handlers.set(x, handler);
    this.byLength.set(segments.length, list);
    return this;
  }

  /** True when the path's first segment belongs to authgate itself. */
  owns(path: string): boolean {
    const end = path.indexOf('/', 1);
    return this.prefixes.has(end === -1 ? path : path.slice(0, end));
  }

  find(method: string, path: string): RouteLookup {
    const exact = this.exact.get(path);
    if (exact) {
      const h = exact.get(method) ?? (method === 'HEAD' ? exact.get('GET') : undefined);
      return h ? { handler: h, params: {} } : { methodNotAllowed: true, allow: [...exact.keys()] };
    }
    const segments = path.split('/').slice(1);
    for (const route of this.byLength.get(segments.length) ?? []) {
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length; i++) {
        const pattern = route.segments[i]!;
        const value = segments[i]!;
        if (pattern.startsWith(':')) {
          if (!value) {
            ok = false;
            break;
          }
          params[pattern.slice(1)] = decodeURIComponent(value);
        } else if (pattern !== value) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      const h = route.handlers.get(method);
      return h ? { handler: h, params } : { methodNotAllowed: true, allow: [...route.handlers.keys()] };
    }
    return null;
  }
}

/** Reads `Authorization: Bearer <token>`; tokens in the query string are never accepted (SPEC §3). */
export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  return match ? match[1]! : null;
}
