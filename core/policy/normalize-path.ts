// Request-target normalisation (SPEC §5): turns the raw HTTP request-target into the one path that is
// both matched against policies.yaml and forwarded upstream, or rejects it with ERR_BAD_PATH (400).
// Runs on every proxied request, so the common case is a single char-code scan with no allocation.

import { Errors } from '../errors.js';

export interface NormalizedTarget {
  /** Normalised absolute path, always starting with `/`. Matched and forwarded verbatim. */
  readonly path: string;
  /** Everything after the first `?` (without the `?`), byte-for-byte as received; never matched. */
  readonly query: string;
}

export interface NormalizeOptions {
  /**
   * Accept `;` in path segments (and `%3B`), kept literally. Off by default — see the note on
   * CHAR_SEMICOLON below for why a gateway should not let them through unless the upstream is known
   * not to interpret RFC 3986 §3.3 path parameters.
   */
  readonly allowSemicolons?: boolean;
}

// Character classes for the single-pass scan. Index = char code (< 128).
//   0 ordinary pchar (kept as-is; fast path possible)
//   1 needs the slow path (`%`, `.`, `/`, `;`) — examined in context
//   2 always rejected (C0 controls, space, DEL, `\`)
const ORDINARY = 0;
const SPECIAL = 1;
const FORBIDDEN = 2;
const CLASS = new Uint8Array(128);
for (let c = 0; c < 0x21; c++) CLASS[c] = FORBIDDEN; // C0 controls + space: not allowed raw (RFC 3986 §2)
CLASS[0x7f] = FORBIDDEN; // DEL
// `\` is a path separator to IIS, Windows file servers and the WHATWG URL parser (for http URLs), so
// `/public\..\admin` would be matched here as one odd segment but resolved upstream as `/admin`.
CLASS[0x5c] = FORBIDDEN;
CLASS[0x25] = SPECIAL; // %
CLASS[0x2e] = SPECIAL; // .
CLASS[0x2f] = SPECIAL; // /
CLASS[0x3b] = SPECIAL; // ;

const CHAR_SLASH = 0x2f;
const CHAR_DOT = 0x2e;
const CHAR_PERCENT = 0x25;
// `;` — RFC 3986 §3.3 lets path segments carry parameters (`/admin;jsessionid=x`). Servlet containers
// (Tomcat, Jetty) and Spring strip them before routing, so a gateway that matches `/admin;x=1` as a
// literal segment and forwards it lets the upstream see `/admin`. Worse, `/public/..;/admin` is not a
// dot-segment here but becomes `..` upstream: the "Breaking Parser Logic" class (Orange Tsai, Black Hat
// 2018) and auth bypasses such as Apache Shiro CVE-2020-1957 / CVE-2020-11989. Stripping them ourselves
// would break upstreams that treat `;` as data; keeping them literally is unsafe. So, like Spring
// Security's StrictHttpFirewall, we reject `;` and `%3B` unless the operator opts in.
const CHAR_SEMICOLON = 0x3b;
const CHAR_QUESTION = 0x3f;
const CHAR_HASH = 0x23;

// hex digit value by char code, or -1
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}
const HEX_UPPER = '0123456789ABCDEF';

/** RFC 3986 §2.3 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~" — decoding these never changes meaning. */
const UNRESERVED = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) UNRESERVED[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) UNRESERVED[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) UNRESERVED[c] = 1;
UNRESERVED[0x2d] = 1;
UNRESERVED[0x2e] = 1;
UNRESERVED[0x5f] = 1;
UNRESERVED[0x7e] = 1;

/**
 * Normalise an origin-form request-target (RFC 9112 §3.2.1) as received in `req.url`.
 *
 * - Only origin-form (`/path?query`) is accepted. Absolute-form (`http://host/path`) and asterisk-form
 *   (`*`) are rejected: authgate is a reverse proxy, clients send absolute-form only to forward proxies,
 *   and honouring it would mean the authority inside the target overrides `Host` (RFC 9112 §3.2.2) — a
 *   second source of truth for host matching. Callers that want it can split it with
 *   {@link splitAbsoluteForm} and use the authority as the host explicitly.
 * - The query starts at the first `?` and is returned untouched; a fragment (`#…`, never sent by
 *   conforming clients) is dropped.
 * - Percent-encoded unreserved characters are decoded (RFC 3986 §6.2.2.2); other escapes are kept with
 *   upper-case hex (§6.2.2.1). Encoded `/` (%2F), `\` (%5C) and control characters (%00–%1F, %7F) are
 *   rejected: upstreams disagree on whether they separate segments (CVE-2007-0450 Tomcat, CVE-2021-41773
 *   Apache httpd). An encoded `%` that itself introduces an escape (`%252e`) is rejected too, so an
 *   upstream that decodes twice (CVE-2001-0333 class) cannot see a different path than we matched.
 * - Raw `\`, controls, space, DEL and non-ASCII are rejected (not allowed in a URI, RFC 3986 §2).
 * - Duplicate slashes are merged (as nginx `merge_slashes`), then `.`/`..` segments are resolved
 *   (RFC 3986 §5.2.4) after the unreserved decoding, so `%2e%2e` counts as `..`; `..` above the root is
 *   rejected instead of being silently dropped.
 * - `;` is rejected unless `options.allowSemicolons` (see CHAR_SEMICOLON).
 *
 * @throws AppError ERR_BAD_PATH (400) when the target cannot be normalised unambiguously.
 */
export function normalizeRequestTarget(rawTarget: string, options?: NormalizeOptions): NormalizedTarget {
  const len = rawTarget.length;
  if (len === 0 || rawTarget.charCodeAt(0) !== CHAR_SLASH) {
    throw Errors.badPath(describeNonOriginForm(rawTarget));
  }
  // Fast path: one scan. Bail out to the slow path on anything that may need rewriting.
  let end = len;
  let queryStart = -1;
  let needsSlow = false;
  let prev = CHAR_SLASH;
  for (let i = 1; i < len; i++) {
    const c = rawTarget.charCodeAt(i);
    if (c === CHAR_QUESTION) {
      end = i;
      queryStart = i + 1;
      break;
    }
    if (c === CHAR_HASH) {
      end = i;
      break;
    }
    if (c >= 128) throw Errors.badPath('The request path contains a non-ASCII character; percent-encode it.');
    const cls = CLASS[c];
    if (cls === ORDINARY) {
      prev = c;
      continue;
    }
    if (cls === FORBIDDEN) throw Errors.badPath(describeForbidden(c));
    // SPECIAL: `/` is fine unless doubled; `.` only matters at the start of a segment.
    if (c === CHAR_SLASH) {
      if (prev === CHAR_SLASH) needsSlow = true;
    } else if (c === CHAR_DOT) {
      if (prev === CHAR_SLASH) needsSlow = true;
    } else {
      needsSlow = true; // `%` or `;`
    }
    prev = c;
  }
  let query = '';
  if (queryStart !== -1) {
    const hash = rawTarget.indexOf('#', queryStart);
    query = hash === -1 ? rawTarget.slice(queryStart) : rawTarget.slice(queryStart, hash);
  }
  if (!needsSlow) {
    return { path: end === len ? rawTarget : rawTarget.slice(0, end), query };
  }
  return { path: normalizeSlow(rawTarget, end, options?.allowSemicolons === true), query };
}

/** Segment-by-segment normalisation of rawTarget[0, end). Only reached for paths with `%`, `;`, `//`, `/.`. */
function normalizeSlow(raw: string, end: number, allowSemicolons: boolean): string {
  const out: string[] = [];
  let trailingSlash = false;
  let i = 1; // raw[0] === '/'
  while (i <= end) {
    // Read one raw segment raw[i, j).
    let j = i;
    while (j < end && raw.charCodeAt(j) !== CHAR_SLASH) j++;
    if (j === i) {
      // Empty segment: duplicate slash (merged) or trailing slash.
      trailingSlash = true;
      i = j + 1;
      continue;
    }
    const segment = decodeSegment(raw, i, j, allowSemicolons);
    if (segment === '.') {
      trailingSlash = true;
    } else if (segment === '..') {
      if (out.length === 0) throw Errors.badPath('The request path climbs above the root with "..".');
      out.pop();
      trailingSlash = true;
    } else {
      out.push(segment);
      trailingSlash = j < end; // a slash follows; if only empties follow, the path ends with `/`
    }
    i = j + 1;
  }
  if (out.length === 0) return '/';
  const joined = '/' + out.join('/');
  return trailingSlash ? joined + '/' : joined;
}

function decodeSegment(raw: string, start: number, end: number, allowSemicolons: boolean): string {
  let hasPercent = false;
  for (let k = start; k < end; k++) {
    const c = raw.charCodeAt(k);
    if (c === CHAR_PERCENT) hasPercent = true;
    else if (c === CHAR_SEMICOLON && !allowSemicolons) throw semicolonError();
  }
  if (!hasPercent) return raw.slice(start, end);
  let result = '';
  let runStart = start;
  let hasEncodedPercent = false;
  for (let k = start; k < end; k++) {
    if (raw.charCodeAt(k) !== CHAR_PERCENT) continue;
    const hi = k + 1 < end ? hexValue(raw.charCodeAt(k + 1)) : -1;
    const lo = k + 2 < end ? hexValue(raw.charCodeAt(k + 2)) : -1;
    if (hi < 0 || lo < 0) throw Errors.badPath('The request path contains an invalid percent-encoding.');
    const byte = (hi << 4) | lo;
    result += raw.slice(runStart, k);
    runStart = k + 3;
    if (byte < 0x80 && UNRESERVED[byte] === 1) {
      result += String.fromCharCode(byte);
      k += 2;
      continue;
    }
    if (byte === 0x2f || byte === 0x5c) {
      throw Errors.badPath('The request path contains an encoded "/" or "\\" (%2F, %5C).');
    }
    if (byte < 0x20 || byte === 0x7f) {
      throw Errors.badPath('The request path contains an encoded control character.');
    }
    if (byte === 0x3b && !allowSemicolons) throw semicolonError();
    if (byte === 0x25) hasEncodedPercent = true;
    result += '%' + HEX_UPPER.charAt(hi) + HEX_UPPER.charAt(lo);
    k += 2;
  }
  result += raw.slice(runStart, end);
  // Checked on the decoded segment, not the raw one: `%25a%61` decodes to `%25aa`, which a double-decoding
  // upstream reads as byte 0xAA (found by the property test in test/policy).
  if (hasEncodedPercent && DOUBLE_ENCODED.test(result)) {
    throw Errors.badPath('The request path contains a double percent-encoding (%25XX).');
  }
  return result;
}

const DOUBLE_ENCODED = /%25[0-9A-Fa-f]{2}/;

function hexValue(c: number): number {
  return c < 128 ? (HEX[c] as number) : -1;
}

function semicolonError() {
  return Errors.badPath('The request path contains ";" (path parameters are not accepted).');
}

function describeForbidden(c: number): string {
  if (c === 0x5c) return 'The request path contains a backslash.';
  if (c === 0) return 'The request path contains a NUL byte.';
  return 'The request path contains a control character or space.';
}

function describeNonOriginForm(raw: string): string {
  if (raw === '*') return 'The asterisk-form request-target is not accepted.';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw)) return 'The absolute-form request-target is not accepted; send the path only.';
  return 'The request-target must be an absolute path starting with "/".';
}

export interface AbsoluteFormParts {
  /** Host from the authority, lower-cased, without userinfo or port. */
  readonly host: string;
  /** Origin-form remainder (`/path?query`), `/` when the URL had no path. */
  readonly target: string;
}

// Compiled once at module load (the hot path never calls this; explain/tests and an opt-in proxy do).
const ABSOLUTE_FORM = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;

/**
 * Split an absolute-form target / URL (`https://api.example.com:8443/a?b`) into host and origin-form
 * target, WITHOUT the WHATWG URL parser: that parser resolves `%2e%2e` and turns `\` into `/` for http(s)
 * URLs, which would hide exactly the inputs normalizeRequestTarget must see (and reject). Returns null when
 * the string is not absolute-form with an http(s) scheme.
 */
export function splitAbsoluteForm(raw: string): AbsoluteFormParts | null {
  const m = ABSOLUTE_FORM.exec(raw);
  if (m === null) return null;
  const scheme = (m[1] as string).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return null;
  const authority = m[2] as string;
  const rest = m[3] as string;
  const at = authority.lastIndexOf('@');
  const hostPort = at === -1 ? authority : authority.slice(at + 1);
  const target = rest === '' ? '/' : rest.charCodeAt(0) === CHAR_SLASH ? rest : '/' + rest;
  return { host: normalizeHost(hostPort) ?? '', target };
}

/**
 * Lower-case a Host header value and strip the port and a trailing dot. IPv6 literals keep their
 * brackets (`[::1]`). Returns null for an absent/empty host.
 */
export function normalizeHost(hostHeader: string | undefined | null): string | null {
  if (hostHeader === undefined || hostHeader === null || hostHeader.length === 0) return null;
  let host = hostHeader;
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const close = host.indexOf(']');
    host = close === -1 ? host : host.slice(0, close + 1);
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0) return null;
  return host.toLowerCase();
}
