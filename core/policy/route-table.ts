// The immutable route table built once per policy load: a segment trie over the path patterns, so a
// lookup costs O(path depth) regardless of how many routes there are (not Oathkeeper's linear scan).

import { normalizeHost } from './normalize-path.js';
import { hostMatches, pathSegments, type HostPattern, type PathPattern } from './pattern.js';

/** The part of a compiled route the table needs. */
export interface MatchableRoute {
  /** Position in the file; the lowest index among matching routes wins (first match in file order). */
  readonly index: number;
  /** Upper-case methods, or null for any method. */
  readonly methods: ReadonlySet<string> | null;
  readonly host: HostPattern | null;
  readonly pattern: PathPattern;
}

export interface RouteMatch<R> {
  readonly route: R;
  /** `:name` captures, still in normalised (percent-encoded where not unreserved) form. */
  readonly params: Readonly<Record<string, string>>;
}

/*
 * Each trie node is one path depth. Literal children are keyed by segment; all one-segment wildcards
 * (`*` and every `:name`, whatever its name) share one child, since they match the same set of segments —
 * names are resolved per route from PathPattern.paramPositions after the winner is known. `**` routes
 * hang off the node where the `**` starts (`rest`), routes that end at a node hang off `exact`.
 * Both lists are in route index order, and `minIndex` is the smallest index in the node's subtree, so a
 * search can skip any subtree that cannot beat the best candidate found so far.
 */
class TrieNode<R extends MatchableRoute> {
  literal: Map<string, TrieNode<R>> | null = null;
  single: TrieNode<R> | null = null;
  exact: R[] = [];
  rest: R[] = [];
  minIndex = Number.POSITIVE_INFINITY;
}

const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

export class RouteTable<R extends MatchableRoute> {
  readonly #root: TrieNode<R>;
  readonly size: number;

  /** `routes` must be in file order (ascending `index`). */
  constructor(routes: readonly R[]) {
    this.#root = new TrieNode<R>();
    for (const route of routes) insert(this.#root, route);
    this.size = routes.length;
    Object.freeze(this);
  }

  /**
   * The first route in file order matching the request, or null.
   * @param method request method (upper-cased here if needed — methods are case-sensitive in HTTP, but a
   *   lower-case `get` must not slip past a `methods: [GET]` deny route onto a wider route either).
   * @param host raw Host header value (or null); normalised here (case, port, trailing dot).
   * @param path a path already normalised by normalizeRequestTarget.
   */
  match(method: string, host: string | null | undefined, path: string): RouteMatch<R> | null {
    const segs = pathSegments(path);
    const m = isUpperAscii(method) ? method : method.toUpperCase();
    const h = normalizeHost(host);
    const route = search(this.#root, 0, segs, m, h, Number.POSITIVE_INFINITY);
    if (route === null) return null;
    const names = route.pattern.paramNames;
    if (names.length === 0) return { route, params: EMPTY_PARAMS };
    // Null prototype: a `:__proto__` or `:constructor` param must stay plain data.
    const params = Object.create(null) as Record<string, string>;
    const positions = route.pattern.paramPositions;
    for (let i = 0; i < names.length; i++) params[names[i] as string] = segs[positions[i] as number] as string;
    return { route, params };
  }

  /**
   * Routes whose path pattern covers every path `pattern` matches (same semantics as pathCovers), in index
   * order. Compile-time only (shadow detection); walks the trie instead of comparing all pairs.
   */
  coveringRoutes(pattern: PathPattern): R[] {
    const found: R[] = [];
    collectCovering(this.#root, pattern, 0, found);
    return found.sort((a, b) => a.index - b.index);
  }
}

function insert<R extends MatchableRoute>(root: TrieNode<R>, route: R): void {
  let node = root;
  node.minIndex = Math.min(node.minIndex, route.index);
  for (const seg of route.pattern.segments) {
    if (seg.kind === 'globstar') {
      node.rest.push(route);
      return;
    }
    let next: TrieNode<R> | undefined;
    if (seg.kind === 'literal') {
      node.literal ??= new Map();
      next = node.literal.get(seg.value);
      if (next === undefined) {
        next = new TrieNode<R>();
        node.literal.set(seg.value, next);
      }
    } else {
      next = node.single ??= new TrieNode<R>();
    }
    node = next;
    node.minIndex = Math.min(node.minIndex, route.index);
  }
  node.exact.push(route);
}

function accepts(route: MatchableRoute, method: string, host: string | null): boolean {
  if (route.methods !== null && !route.methods.has(method)) return false;
  if (route.host !== null && !hostMatches(route.host, host)) return false;
  return true;
}

/** Lowest-index route with index < bound in this subtree that matches segs[depth..], or null. */
function search<R extends MatchableRoute>(
  node: TrieNode<R>,
  depth: number,
  segs: readonly string[],
  method: string,
  host: string | null,
  bound: number,
): R | null {
  if (node.minIndex >= bound) return null;
  let best: R | null = null;
  for (const r of node.rest) {
    if (r.index >= bound) break;
    if (accepts(r, method, host)) {
      best = r;
      bound = r.index;
      break;
    }
  }
  if (depth === segs.length) {
    for (const r of node.exact) {
      if (r.index >= bound) break;
      if (accepts(r, method, host)) return r;
    }
    return best;
  }
  const seg = segs[depth] as string;
  const lit = node.literal === null ? undefined : node.literal.get(seg);
  const single = node.single;
  // Visit the child that may hold the lower index first so the other one is more likely pruned.
  const first = lit !== undefined && (single === null || lit.minIndex <= single.minIndex) ? lit : single;
  const second = first === lit ? single : lit;
  if (first !== null && first !== undefined) {
    const r = search(first, depth + 1, segs, method, host, bound);
    if (r !== null) {
      best = r;
      bound = r.index;
    }
  }
  if (second !== null && second !== undefined) {
    const r = search(second, depth + 1, segs, method, host, bound);
    if (r !== null) best = r;
  }
  return best;
}

function collectCovering<R extends MatchableRoute>(node: TrieNode<R>, pattern: PathPattern, depth: number, out: R[]): void {
  for (const r of node.rest) out.push(r); // `**` here covers whatever follows
  const seg = pattern.segments[depth];
  if (seg === undefined) {
    for (const r of node.exact) out.push(r);
    return;
  }
  if (seg.kind === 'globstar') return; // only a `**` at the same depth (above) covers a `**`
  if (seg.kind === 'literal') {
    const lit = node.literal?.get(seg.value);
    if (lit !== undefined) collectCovering(lit, pattern, depth + 1, out);
  }
  if (node.single !== null) collectCovering(node.single, pattern, depth + 1, out);
}

function isUpperAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) return false;
  }
  return true;
}
