// Open-redirect table for the login page's return URL (core/oauth/return-url.ts), including encoded and
// browser-normalised variants (CWE-601).
import t from 'tap';
import { safeReturnPath } from '../../core/oauth/return-url.js';

const rejected = [
  '//evil.example',
  '/\\evil.example',
  'https://evil.example',
  'http:/evil.example',
  'javascript:alert(1)',
  'evil.example',
  '/%2fevil.example',
  '/%2Fevil.example',
  '/%5cevil.example',
  '/%252fevil.example',
  '%2F%2Fevil.example',
  '/\t/evil.example',
  '/%09/evil.example',
  '/%0a/evil.example',
  '/ /evil.example',
  '',
  '/'.padEnd(3000, 'a'),
];
const accepted = ['/', '/app', '/app/page?x=1&y=%2F', '/search?q=a%20b', '/a/b/#frag', '/.well-known/x'];

t.test('unsafe return URLs are refused', async (t) => {
  for (const v of rejected) t.equal(safeReturnPath(v), null, JSON.stringify(v));
});

t.test('same-origin paths are kept verbatim', async (t) => {
  for (const v of accepted) t.equal(safeReturnPath(v), v, v);
});
