// Table tests for request-target normalisation (SPEC §5): what is rewritten, what is rejected with 400.
import t from 'tap';
import { isAppError } from '../../core/errors.js';
import { normalizeHost, normalizeRequestTarget, splitAbsoluteForm } from '../../core/policy/normalize-path.js';

type Case = [input: string, expected: string | { path: string; query: string } | 'reject'];

const cases: Case[] = [
  // from the brief
  ['/admin/../admin', '/admin'],
  ['//admin', '/admin'],
  ['/%61dmin', '/admin'],
  ['/public/..%2Fadmin', 'reject'],
  ['/public/%2e%2e/admin', '/admin'],
  ['/a\\b', 'reject'],
  ['/a%00', 'reject'],
  ['/..', 'reject'],
  ['/%zz', 'reject'],
  ['/a%2fb', 'reject'],
  ['/a?x=/../b', { path: '/a', query: 'x=/../b' }],
  // fast path untouched
  ['/', '/'],
  ['/api/orders/1', '/api/orders/1'],
  ['/static/app.min.js', '/static/app.min.js'],
  ['/a/b/', '/a/b/'],
  ['/a-b_c~d', '/a-b_c~d'],
  ["/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,="],
  // dot segments (RFC 3986 §5.2.4) and slashes
  ['/.', '/'],
  ['/a/.', '/a/'],
  ['/a/./b', '/a/b'],
  ['/a/..', '/'],
  ['/a/b/..', '/a/'],
  ['/a/b/../c', '/a/c'],
  ['/a/../..', 'reject'],
  ['/a/../../b', 'reject'],
  ['/a//../b', '/b'], // slashes merged before dot resolution (nginx merge_slashes)
  ['/a///b//', '/a/b/'],
  ['///', '/'],
  ['/.hidden/..config', '/.hidden/..config'],
  ['/a/.../b', '/a/.../b'],
  ['/a/%2E%2E/b', '/b'],
  ['/a/.%2e/b', '/b'],
  ['/a/%2e/b', '/a/b'],
  ['/%2e%2e', 'reject'],
  // percent-encoding
  ['/%7Euser', '/~user'],
  ['/%41%42%5a%30%2D%5F', '/ABZ0-_'],
  ['/caf%c3%a9', '/caf%C3%A9'],
  ['/a%20b', '/a%20b'],
  ['/a%3ab', '/a%3Ab'],
  ['/a%25', '/a%25'],
  ['/100%25.txt', '/100%25.txt'],
  ['/%252e%252e/admin', 'reject'], // double encoding
  ['/a%5cb', 'reject'],
  ['/a%5Cb', 'reject'],
  ['/a%2Fb', 'reject'],
  ['/a%0d%0aSet-Cookie:x', 'reject'],
  ['/a%7f', 'reject'],
  ['/a%', 'reject'],
  ['/a%4', 'reject'],
  ['/a%4g', 'reject'],
  ['/%', 'reject'],
  // raw forbidden characters
  ['/a\u0000', 'reject'],
  ['/a\tb', 'reject'],
  ['/a b', 'reject'],
  ['/a\u007f', 'reject'],
  ['/caf\u00e9', 'reject'],
  ['/a\\..\\admin', 'reject'],
  // semicolons (path parameters)
  ['/admin;x=1', 'reject'],
  ['/public/..;/admin', 'reject'],
  ['/admin%3bx', 'reject'],
  // query and fragment
  ['/a?', { path: '/a', query: '' }],
  ['/a?b?c', { path: '/a', query: 'b?c' }],
  ['/a?q=%2f..\\', { path: '/a', query: 'q=%2f..\\' }],
  ['/a#frag', { path: '/a', query: '' }],
  ['/a?x=1#frag', { path: '/a', query: 'x=1' }],
  ['/a#f?x=1', { path: '/a', query: '' }],
  ['/x/../a?q', { path: '/a', query: 'q' }],
  // not origin-form
  ['', 'reject'],
  ['*', 'reject'],
  ['http://example.com/a', 'reject'],
  ['a/b', 'reject'],
  ['?x', 'reject'],
];

for (const [input, expected] of cases) {
  t.test(JSON.stringify(input), async (t) => {
    if (expected === 'reject') {
      t.throws(() => normalizeRequestTarget(input), { code: 'ERR_BAD_PATH', status: 400 });
      return;
    }
    const want = typeof expected === 'string' ? { path: expected, query: '' } : expected;
    t.same(normalizeRequestTarget(input), want);
  });
}

t.test('rejections are AppErrors with a detail', async (t) => {
  try {
    normalizeRequestTarget('/a%2fb');
    t.fail('should throw');
  } catch (err) {
    t.ok(isAppError(err));
    if (isAppError(err)) t.match(err.detail, /%2F/);
  }
});

t.test('allowSemicolons keeps ; literally (and %3B encoded)', async (t) => {
  t.same(normalizeRequestTarget('/admin;x=1', { allowSemicolons: true }), { path: '/admin;x=1', query: '' });
  t.same(normalizeRequestTarget('/a%3bb', { allowSemicolons: true }), { path: '/a%3Bb', query: '' });
  // `..;` is then a literal segment, not a dot segment
  t.same(normalizeRequestTarget('/a/..;/b', { allowSemicolons: true }).path, '/a/..;/b');
});

t.test('fast path returns the input string itself', async (t) => {
  const s = '/api/orders/123/items';
  t.equal(normalizeRequestTarget(s).path, s);
});

t.test('splitAbsoluteForm', async (t) => {
  t.same(splitAbsoluteForm('https://API.Example.com:8443/a/b?c=1'), { host: 'api.example.com', target: '/a/b?c=1' });
  t.same(splitAbsoluteForm('http://user:pw@h.example/x'), { host: 'h.example', target: '/x' });
  t.same(splitAbsoluteForm('http://h.example'), { host: 'h.example', target: '/' });
  t.same(splitAbsoluteForm('http://h.example?x'), { host: 'h.example', target: '/?x' });
  // no WHATWG rewriting: the backslash and encoded dots reach the normaliser
  t.same(splitAbsoluteForm('http://h/a\\..\\b'), { host: 'h', target: '/a\\..\\b' });
  t.same(splitAbsoluteForm('http://[::1]:8080/x'), { host: '[::1]', target: '/x' });
  t.equal(splitAbsoluteForm('/just/a/path'), null);
  t.equal(splitAbsoluteForm('ftp://h/x'), null);
});

t.test('normalizeHost', async (t) => {
  t.equal(normalizeHost('API.Example.COM:443'), 'api.example.com');
  t.equal(normalizeHost('example.com.'), 'example.com');
  t.equal(normalizeHost('[::1]:8080'), '[::1]');
  t.equal(normalizeHost(''), null);
  t.equal(normalizeHost(undefined), null);
});
