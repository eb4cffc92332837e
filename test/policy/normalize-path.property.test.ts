// Property tests for request-target normalisation: idempotence, no dot/duplicate-slash residue, equivalent
// spellings agree, and agreement with a literal reference model (decode unreserved, merge slashes,
// RFC 3986 §5.2.4 remove_dot_segments, reject on climbing above the root).
import t from 'tap';
import fc from 'fast-check';
import { isAppError } from '../../core/errors.js';
import { normalizeRequestTarget } from '../../core/policy/normalize-path.js';

const NUM_RUNS = 3000;

function tryNormalize(p: string): string | null {
  try {
    return normalizeRequestTarget(p).path;
  } catch (err) {
    if (isAppError(err) && err.code === 'ERR_BAD_PATH') return null;
    throw err;
  }
}

// ---- reference model, written independently of the implementation
const UNRESERVED_RE = /^[A-Za-z0-9\-._~]$/;

function modelDecode(p: string): string | null {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    const code = ch.charCodeAt(0);
    if (code < 0x21 || code >= 0x7f || ch === '\\' || ch === ';') return null;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const hex = p.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
    const byte = parseInt(hex, 16);
    const decoded = String.fromCharCode(byte);
    if (UNRESERVED_RE.test(decoded)) out += decoded;
    else if (byte === 0x2f || byte === 0x5c || byte === 0x3b || byte < 0x20 || byte === 0x7f) return null;
    else out += '%' + hex.toUpperCase();
    i += 2;
  }
  // an escape that, decoded once more, is another escape (double encoding): rejected
  return /%25[0-9A-Fa-f]{2}/.test(out) ? null : out;
}

/** RFC 3986 §5.2.4, step by step on string buffers; null when ".." would leave the root. */
function removeDotSegments(input: string): string | null {
  let inp = input;
  let out = '';
  while (inp.length > 0) {
    if (inp.startsWith('../')) inp = inp.slice(3);
    else if (inp.startsWith('./')) inp = inp.slice(2);
    else if (inp.startsWith('/./')) inp = '/' + inp.slice(3);
    else if (inp === '/.') inp = '/';
    else if (inp.startsWith('/../') || inp === '/..') {
      if (out === '') return null; // would climb above the root (RFC silently drops it; we reject)
      inp = '/' + inp.slice(inp === '/..' ? 3 : 4);
      out = out.slice(0, Math.max(0, out.lastIndexOf('/')));
    } else if (inp === '.' || inp === '..') inp = '';
    else {
      const next = inp.indexOf('/', 1);
      const seg = next === -1 ? inp : inp.slice(0, next);
      out += seg;
      inp = next === -1 ? '' : inp.slice(next);
    }
  }
  return out === '' ? '/' : out;
}

function model(p: string): string | null {
  const decoded = modelDecode(p);
  if (decoded === null) return null;
  return removeDotSegments(decoded.replace(/\/+/g, '/'));
}

// ---- generators
const hexCase = (hex: string) => fc.constantFrom(hex.toUpperCase(), hex.toLowerCase(), hex[0]!.toUpperCase() + hex[1]!.toLowerCase(), hex[0]!.toLowerCase() + hex[1]!.toUpperCase());
const pct = (byte: number) => hexCase(byte.toString(16).padStart(2, '0')).map((h) => '%' + h);

/** One character of a segment, raw or percent-encoded (including encodings that must be rejected). */
const pathChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'Z', '0', '9', '-', '_', '~', '.', ':', '@', '!', '+', '=') },
  { weight: 4, arbitrary: fc.constantFrom(0x61, 0x41, 0x30, 0x2e, 0x2d, 0x5f, 0x7e).chain(pct) },
  { weight: 2, arbitrary: fc.constantFrom(0x20, 0x3a, 0xc3, 0xa9, 0x25, 0x3f, 0x23).chain(pct) },
  { weight: 1, arbitrary: fc.constantFrom(0x2f, 0x5c, 0x00, 0x0a, 0x3b).chain(pct) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%g', '%4', ';', '\\') },
);
const dotSegment = fc.oneof(
  fc.constantFrom('.', '..'),
  fc.tuple(fc.oneof(fc.constant('.'), pct(0x2e)), fc.oneof(fc.constant('.'), pct(0x2e))).map(([a, b]) => a + b),
  pct(0x2e),
);
const segment = fc.oneof({ weight: 5, arbitrary: fc.array(pathChar, { minLength: 1, maxLength: 6 }).map((cs) => cs.join('')) }, { weight: 2, arbitrary: dotSegment }, { weight: 1, arbitrary: fc.constant('') });
const rawPath = fc
  .tuple(fc.array(segment, { maxLength: 8 }), fc.boolean())
  .map(([segs, trailing]) => '/' + segs.join('/') + (trailing ? '/' : ''));

t.test('agrees with the reference model (accept/reject and value)', async (t) => {
  fc.assert(
    fc.property(rawPath, (p) => {
      const got = tryNormalize(p);
      const want = model(p);
      if (got !== want) throw new Error(`${JSON.stringify(p)}: got ${JSON.stringify(got)}, model ${JSON.stringify(want)}`);
    }),
    { numRuns: NUM_RUNS },
  );
  t.pass('model agrees');
});

t.test('output is idempotent and canonical', async (t) => {
  fc.assert(
    fc.property(rawPath, (p) => {
      const out = tryNormalize(p);
      if (out === null) return;
      if (!out.startsWith('/')) throw new Error(`no leading slash: ${out}`);
      if (tryNormalize(out) !== out) throw new Error(`not idempotent: ${p} -> ${out} -> ${tryNormalize(out)}`);
      if (out.includes('//')) throw new Error(`"//" in ${out}`);
      if (/\/\.\.?(\/|$)/.test(out)) throw new Error(`dot segment in ${out}`);
      if (/%2f|%5c|%00/i.test(out)) throw new Error(`encoded separator/NUL in ${out}`);
      if (/%[0-9a-f]?[a-f]/.test(out)) throw new Error(`lower-case hex in ${out}`);
      if (/%(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2D|2E|5F|7E)/.test(out)) throw new Error(`encoded unreserved in ${out}`);
    }),
    { numRuns: NUM_RUNS },
  );
  t.pass('canonical');
});

// Equivalent spellings of the same canonical path: re-encode unreserved characters (any hex case),
// add duplicate slashes, `./` and `x/../` detours.
const safeSegment = fc.array(fc.constantFrom('a', 'b', 'Z', '0', '-', '_', '~', '.', ':', '%C3%A9'), { minLength: 1, maxLength: 5 })
  .map((cs) => cs.join(''))
  .filter((s) => s !== '.' && s !== '..');

const detour = fc.constantFrom('', '/', './', 'zz/../', '%2e/', 'q/%2E%2e/');

/** `/` + detour + seg1 + `/` + detour + seg2 + `/` + detour … (always ends with `/` + detour). */
function spell(segments: string[]) {
  return fc
    .tuple(fc.tuple(...segments.map((s) => spellSegment(s))), fc.array(detour, { minLength: segments.length + 1, maxLength: segments.length + 1 }))
    .map(([spelled, detours]) => '/' + detours[0] + spelled.map((seg, i) => seg + '/' + detours[i + 1]).join(''));
}

function spellSegment(seg: string) {
  const chars: fc.Arbitrary<string>[] = [];
  for (let i = 0; i < seg.length; i++) {
    if (seg[i] === '%') {
      chars.push(hexCase(seg.slice(i + 1, i + 3)).map((h) => '%' + h));
      i += 2;
      continue;
    }
    const ch = seg[i]!;
    chars.push(UNRESERVED_RE.test(ch) ? fc.oneof(fc.constant(ch), pct(ch.charCodeAt(0))) : fc.constant(ch));
  }
  return fc.tuple(...chars).map((cs) => cs.join(''));
}

t.test('equivalent spellings normalise to the same path', async (t) => {
  fc.assert(
    fc.property(
      fc.array(safeSegment, { minLength: 1, maxLength: 5 }).chain((segs) => fc.tuple(fc.constant(segs), spell(segs), spell(segs))),
      ([segs, a, b]) => {
        const canonical = tryNormalize('/' + segs.join('/'));
        const na = tryNormalize(a);
        const nb = tryNormalize(b);
        // trailing detours (`./`, `zz/../`) legitimately leave a trailing slash; compare ignoring it
        const strip = (s: string | null) => (s !== null && s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s);
        if (strip(na) !== strip(canonical) || strip(nb) !== strip(canonical)) {
          throw new Error(`${JSON.stringify(a)} -> ${na}, ${JSON.stringify(b)} -> ${nb}, canonical ${canonical}`);
        }
      },
    ),
    { numRuns: NUM_RUNS },
  );
  t.pass('equivalent');
});

t.test('the spelling generator really varies the input', async (t) => {
  const samples = fc.sample(spell(['ab', 'c~d']), 200);
  t.ok(samples.some((s) => /%6[12]|%41/i.test(s)), 'some unreserved characters are percent-encoded');
  t.ok(samples.some((s) => s.includes('/../')), 'some detours');
  t.ok(samples.some((s) => s.includes('//')), 'some duplicate slashes');
});

t.test('the model itself behaves on known cases', async (t) => {
  t.equal(model('/a/b/../c'), '/a/c');
  t.equal(model('/..'), null);
  t.equal(model('/%61/./b/'), '/a/b/');
  t.equal(model('/a%2fb'), null);
});
