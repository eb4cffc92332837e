// Open-redirect defence for the login page's return URL: only a same-origin relative path is accepted.
// `//evil.example` and `/\evil.example` are scheme-relative to browsers (WHATWG URL treats `\` as `/`),
// so the path must start with exactly one `/` followed by neither `/` nor `\`, in raw or decoded form.

const MAX_RETURN_URL = 2048;
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
const UNSAFE = /[\x00-\x20\x7f\\]/;

/** The return path when it is safe, else null. Accepts only `/…` paths that resolve to our own origin. */
export function safeReturnPath(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_RETURN_URL) return null;
  // Control characters and whitespace are stripped by browsers inside URLs (`/\t/evil.example`).
  if (UNSAFE.test(raw)) return null;
  if (raw[0] !== '/' || raw[1] === '/') return null;
  // Percent-encoded `/` or `\` right after the leading slash can be decoded by a later hop (CWE-601).
  let decoded = raw;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      return null;
    }
    if (next === decoded) break;
    decoded = next;
    // Browsers drop tab/CR/LF anywhere in a URL; what is left must still start with exactly one `/`.
    const squeezed = decoded.replace(/[\t\n\r]/g, '');
    if (squeezed[0] !== '/' || squeezed[1] === '/' || squeezed[1] === '\\') return null;
  }
  // Final check with the URL parser itself: resolving against a sentinel origin must stay on it.
  const base = 'http://return.invalid';
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return null;
  }
  if (url.origin !== base) return null;
  return raw;
}
