// Hostile input over raw sockets: header floods, oversized headers, request-smuggling framings (duplicate
// Content-Length, Content-Length with Transfer-Encoding), absolute-form targets and request lines with
// invalid characters. Each is a 4xx (never 5xx), the server keeps serving, and nothing reaches the upstream.
import t from 'tap';
import { http, registerAndLogin, startTestApp } from '../helpers/app.js';
import { rawExchange, requestBytes } from './raw-socket.js';

t.test('malformed and smuggling requests', async (t) => {
  const app = await startTestApp();
  t.teardown(() => app.close());
  const port = app.app.port;
  const user = await registerAndLogin(app.url);
  const auth = `Authorization: Bearer ${user.access}`;

  const cases: Array<{ name: string; bytes: Buffer; allowed: number[] }> = [
    {
      name: '1,000 small headers',
      bytes: requestBytes(['GET /public/flood HTTP/1.1', 'Host: authgate.test', ...Array.from({ length: 1000 }, (_, i) => `h${i}: v`)]),
      allowed: [431],
    },
    {
      name: '1,000 headers of ordinary size',
      bytes: requestBytes(['GET /public/flood HTTP/1.1', 'Host: authgate.test', ...Array.from({ length: 1000 }, (_, i) => `X-Custom-Header-${i}: value-${i}`)]),
      allowed: [431],
    },
    {
      name: 'one 64 KB header',
      bytes: requestBytes(['GET /public/big HTTP/1.1', 'Host: authgate.test', `X-Big: ${'a'.repeat(64 * 1024)}`]),
      allowed: [431],
    },
    {
      name: 'duplicate Content-Length (different values)',
      bytes: requestBytes(['POST /public/smuggle HTTP/1.1', 'Host: authgate.test', 'Content-Length: 5', 'Content-Length: 44'], 'hello'),
      allowed: [400],
    },
    {
      name: 'duplicate Content-Length (same value)',
      bytes: requestBytes(['POST /public/smuggle HTTP/1.1', 'Host: authgate.test', 'Content-Length: 5', 'Content-Length: 5'], 'hello'),
      allowed: [400],
    },
    {
      name: 'Content-Length with Transfer-Encoding: chunked (CL.TE)',
      bytes: requestBytes(
        ['POST /public/smuggle HTTP/1.1', 'Host: authgate.test', 'Content-Length: 6', 'Transfer-Encoding: chunked'],
        '0\r\n\r\nGET /public/smuggled HTTP/1.1\r\nHost: authgate.test\r\n\r\n',
      ),
      allowed: [400],
    },
    {
      name: 'Transfer-Encoding: chunked with Content-Length (TE.CL, smuggled request in the body)',
      bytes: requestBytes(
        ['POST /public/smuggle HTTP/1.1', 'Host: authgate.test', 'Transfer-Encoding: chunked', 'Content-Length: 4'],
        '5c\r\nGET /api/orders/1 HTTP/1.1\r\nHost: authgate.test\r\nX-Auth-User-Id: admin\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n',
      ),
      allowed: [400],
    },
    {
      name: 'obfuscated Transfer-Encoding (xchunked) with Content-Length',
      bytes: requestBytes(['POST /public/smuggle HTTP/1.1', 'Host: authgate.test', 'Transfer-Encoding: xchunked', 'Content-Length: 5'], 'hello'),
      allowed: [400, 501],
    },
    {
      name: 'Transfer-Encoding with a space before the colon',
      bytes: requestBytes(['POST /public/smuggle HTTP/1.1', 'Host: authgate.test', 'Transfer-Encoding : chunked', 'Content-Length: 5'], 'hello'),
      allowed: [400],
    },
    {
      name: 'header continuation line (obs-fold)',
      bytes: requestBytes(['GET /public/fold HTTP/1.1', 'Host: authgate.test', 'X-Auth-User-Id: a', ' admin']),
      allowed: [400],
    },
    {
      name: 'absolute-form target naming another host',
      bytes: requestBytes(['GET http://evil.example/api/orders/1 HTTP/1.1', 'Host: authgate.test', auth]),
      allowed: [400, 403],
    },
    {
      name: 'absolute-form target for a public route',
      bytes: requestBytes(['GET http://authgate.test/public/abs HTTP/1.1', 'Host: authgate.test']),
      allowed: [400, 403],
    },
    {
      name: 'request line with a space inside the target',
      bytes: requestBytes(['GET /public/a b HTTP/1.1', 'Host: authgate.test']),
      allowed: [400],
    },
    {
      name: 'request line with a control character',
      bytes: requestBytes(['GET /public/a\x01b HTTP/1.1', 'Host: authgate.test']),
      allowed: [400],
    },
    {
      name: 'request line with a raw non-ASCII byte',
      bytes: Buffer.concat([Buffer.from('GET /public/caf'), Buffer.from([0xe9]), Buffer.from(' HTTP/1.1\r\nHost: authgate.test\r\n\r\n')]),
      allowed: [400],
    },
    {
      name: 'bare LF line endings mixed with CR in a header',
      bytes: Buffer.from('GET /public/lf HTTP/1.1\r\nHost: authgate.test\r\nX-A: 1\rX-Auth-User-Id: admin\r\n\r\n', 'latin1'),
      allowed: [400],
    },
    {
      name: 'NUL in a header value',
      bytes: requestBytes(['GET /public/nul HTTP/1.1', 'Host: authgate.test', 'X-A: a\x00b']),
      allowed: [400],
    },
    {
      name: 'unknown HTTP version',
      bytes: requestBytes(['GET /public/v HTTP/9.9', 'Host: authgate.test']),
      allowed: [400, 505],
    },
    {
      name: 'asterisk-form target on GET',
      bytes: requestBytes(['GET * HTTP/1.1', 'Host: authgate.test']),
      allowed: [400],
    },
    {
      name: 'CONNECT to an internal host',
      bytes: requestBytes(['CONNECT 127.0.0.1:22 HTTP/1.1', 'Host: 127.0.0.1:22']),
      allowed: [400, 403, 405],
    },
  ];

  for (const c of cases) {
    const before = app.upstream.received.length;
    const res = await rawExchange(port, { chunks: [c.bytes], deadlineMs: 10_000 });
    t.ok(c.allowed.includes(res.status), `${c.name}: ${res.status} (expected ${c.allowed.join(' or ')})`);
    t.notOk(res.statuses.some((s) => s >= 500 && !c.allowed.includes(s)), `${c.name}: no 5xx (${JSON.stringify(res.statuses)})`);
    t.notOk(res.statuses.includes(200), `${c.name}: no smuggled second request was answered`);
    t.equal(app.upstream.received.length, before, `${c.name}: nothing forwarded`);
  }
  t.equal((await http(app.url, 'GET', '/public/still-alive')).status, 200, 'the server still serves normal requests');
});
