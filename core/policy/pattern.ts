// Compiles the `match.path` and `match.host` patterns of policies.yaml into small immutable values the
// route table indexes, and answers "does pattern A cover pattern B" for shadow detection.

import { AppError } from '../errors.js';
import { normalizeRequestTarget } from './normalize-path.js';

/*
 * Path patterns (SPEC §5), matched segment by segment against the NORMALISED request path:
 *   literal   `orders`  — exact, case-sensitive (RFC 3986 §6.2.2.1: path is case-sensitive)
 *   `*`                 — exactly one non-empty segment
 *   `:name`             — exactly one non-empty segment, captured as params.name
 *   `**`                — any rest of the path, including nothing; only as the last segment
 * A trailing slash is not significant on either side: `/admin` matches `/admin/` and vice versa. If it
 * were, `deny /admin` would not cover `/admin/` and the request would fall through to a wider route
 * while most upstream routers (Express non-strict, Spring, Rails) serve `/admin/` as `/admin`.
 * Residual risk, not handled here: upstreams that match paths case-insensitively (IIS, Spring with
 * case-insensitive matching) or strip trailing dots (Windows) can still see `/ADMIN` or `/admin.` as
 * `/admin`; for those, guard with an allow-list (`default: deny`) rather than deny-list routes.
 */
export type PathSegment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'star' }
  | { readonly kind: 'globstar' };

export interface PathPattern {
  readonly source: string;
  readonly segments: readonly PathSegment[];
  /** Param names in segment order (for building params objects without scanning segments). */
  readonly paramNames: readonly string[];
  /** Segment index of each param, parallel to paramNames. */
  readonly paramPositions: readonly number[];
  readonly endsWithGlobstar: boolean;
}

export type CompileResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly string[] };

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Compile a `match.path` pattern; collects every problem in it rather than stopping at the first. */
export function compilePathPattern(source: string): CompileResult<PathPattern> {
  const errors: string[] = [];
  if (!source.startsWith('/')) {
    return { ok: false, errors: [`path pattern "${source}" must start with "/"`] };
  }
  if (source.includes('?') || source.includes('#')) {
    errors.push(`path pattern "${source}" must not contain "?" or "#": the query is never matched`);
  }
  const raw = source.split('/').slice(1);
  // A trailing slash is not significant (see above); `/` alone is the root with zero segments.
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  const segments: PathSegment[] = [];
  const paramNames: string[] = [];
  const paramPositions: number[] = [];
  raw.forEach((seg, i) => {
    if (seg === '') {
      errors.push(`path pattern "${source}" has an empty segment ("//"); requests never contain one after normalisation`);
      return;
    }
    if (seg === '**') {
      if (i !== raw.length - 1) errors.push(`"**" must be the last segment in "${source}"`);
      segments.push({ kind: 'globstar' });
      return;
    }
    if (seg === '*') {
      segments.push({ kind: 'star' });
      return;
    }
    if (seg.startsWith(':')) {
      const name = seg.slice(1);
      if (name === '') errors.push(`empty parameter name ":" in "${source}"`);
      else if (!PARAM_NAME.test(name)) errors.push(`invalid parameter name ":${name}" in "${source}" (letters, digits, "_")`);
      else if (paramNames.includes(name)) errors.push(`duplicate parameter name ":${name}" in "${source}"`);
      paramNames.push(name);
      paramPositions.push(segments.length);
      segments.push({ kind: 'param', name });
      return;
    }
    if (seg.includes('*')) {
      errors.push(`partial wildcard "${seg}" in "${source}": "*" and "**" must be whole segments`);
      return;
    }
    if (seg === '.' || seg === '..') {
      errors.push(`dot segment "${seg}" in "${source}": requests never contain one after normalisation`);
      return;
    }
    // A literal is compared with normalised request segments, so it must itself be normalised;
    // otherwise (`%61dmin`, `a%2fb`) it could never match and the route would silently be dead.
    const normalized = normalizeLiteral(seg);
    if (normalized === null) {
      errors.push(`segment "${seg}" in "${source}" is not a valid request path segment (it would be rejected with 400)`);
    } else if (normalized !== seg) {
      errors.push(`segment "${seg}" in "${source}" is not in normalised form; write "${normalized}"`);
    }
    segments.push({ kind: 'literal', value: seg });
  });
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: Object.freeze({
      source,
      segments: Object.freeze(segments.map((s) => Object.freeze(s))),
      paramNames: Object.freeze(paramNames),
      paramPositions: Object.freeze(paramPositions),
      endsWithGlobstar: segments.length > 0 && segments[segments.length - 1]?.kind === 'globstar',
    }),
  };
}

function normalizeLiteral(seg: string): string | null {
  try {
    // `;` is legal in a literal only if the request path could contain it; the normaliser decides.
    const { path } = normalizeRequestTarget('/' + seg, { allowSemicolons: true });
    return path.slice(1);
  } catch (err) {
    if (err instanceof AppError) return null;
    throw err;
  }
}

/**
 * Whether every path matched by `inner` is also matched by `outer` (used for shadow detection).
 * Linear walk: `**` in outer covers any rest; a one-segment wildcard (`*`/`:x`) covers any literal or
 * one-segment wildcard; a literal covers only the same literal.
 */
export function pathCovers(outer: PathPattern, inner: PathPattern): boolean {
  const o = outer.segments;
  const n = inner.segments;
  for (let i = 0; ; i++) {
    const os = o[i];
    const ns = n[i];
    if (os === undefined) return ns === undefined;
    if (os.kind === 'globstar') return true;
    if (ns === undefined || ns.kind === 'globstar') return false;
    if (os.kind === 'literal') {
      if (ns.kind !== 'literal' || ns.value !== os.value) return false;
    }
    // os is star/param: covers literal, star and param alike.
  }
}

/*
 * Host patterns: `api.example.com` (exact) or `*.example.com`, which matches ONE OR MORE labels in
 * front of `.example.com` (`a.example.com`, `a.b.example.com`) but not `example.com` itself — the same
 * reach as a wildcard DNS record, and wider than a TLS wildcard certificate (RFC 6125 §6.4.3, one label)
 * so that one route can front a whole delegated zone. Comparison is case-insensitive (RFC 4343), the
 * port and a trailing dot are ignored on both sides.
 */
export type HostPattern =
  | { readonly kind: 'exact'; readonly source: string; readonly host: string }
  | { readonly kind: 'suffix'; readonly source: string; /** `.example.com` */ readonly suffix: string };

const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
const IPV6_LITERAL = /^\[[0-9a-f:.]+\]$/;

export function compileHostPattern(source: string): CompileResult<HostPattern> {
  let host = source.trim().toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '') return { ok: false, errors: ['host pattern is empty'] };
  if (IPV6_LITERAL.test(host)) return { ok: true, value: Object.freeze({ kind: 'exact', source, host }) };
  if (host.includes(':') || host.includes('/')) {
    return { ok: false, errors: [`host pattern "${source}" must be a bare host name: ports and schemes are ignored when matching`] };
  }
  const labels = host.split('.');
  const wildcard = labels[0] === '*';
  const rest = wildcard ? labels.slice(1) : labels;
  if (wildcard && rest.length < 2) {
    return { ok: false, errors: [`host pattern "${source}" is too wide: "*." must be followed by at least two labels`] };
  }
  const bad = rest.filter((l) => !HOST_LABEL.test(l));
  if (bad.length > 0) {
    const extra = bad.some((l) => l.includes('*')) ? ' ("*" is allowed only as the whole leftmost label)' : '';
    return { ok: false, errors: [`host pattern "${source}" has invalid label(s) ${bad.map((l) => `"${l}"`).join(', ')}${extra}`] };
  }
  if (wildcard) return { ok: true, value: Object.freeze({ kind: 'suffix', source, suffix: '.' + rest.join('.') }) };
  return { ok: true, value: Object.freeze({ kind: 'exact', source, host }) };
}

/** `host` must already be normalised (see normalizeHost); null means the request had no Host. */
export function hostMatches(pattern: HostPattern, host: string | null): boolean {
  if (host === null) return false;
  if (pattern.kind === 'exact') return host === pattern.host;
  return host.length > pattern.suffix.length && host.endsWith(pattern.suffix);
}

/** Whether every host matched by `inner` is matched by `outer`; null means "any host". */
export function hostCovers(outer: HostPattern | null, inner: HostPattern | null): boolean {
  if (outer === null) return true;
  if (inner === null) return false;
  if (outer.kind === 'exact') return inner.kind === 'exact' && inner.host === outer.host;
  if (inner.kind === 'exact') return hostMatches(outer, inner.host);
  // `*.b.example.com` (one or more labels before .b.example.com) ⊂ `*.example.com`.
  return inner.suffix === outer.suffix || inner.suffix.endsWith(outer.suffix);
}

/** Split a normalised path into match segments: no leading empty, trailing slash ignored. */
export function pathSegments(path: string): string[] {
  if (path.length <= 1) return [];
  const end = path.charCodeAt(path.length - 1) === 0x2f ? path.length - 1 : path.length;
  return path.slice(1, end).split('/');
}
