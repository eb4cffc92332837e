// Hostile input: slow clients. Slowloris headers (one header line at a time, forever), slow bodies (a
// byte at a time) and idle keep-alive connections are cut by the server timeouts (server.headers_timeout,
// request_timeout, keep_alive_timeout), answered 408 where a response is still possible, never forwarded.
import t from 'tap';
import { http, startTestApp } from '../helpers/app.js';
import { rawExchange, requestBytes } from './raw-socket.js';

t.test('slow clients are cut by the server timeouts', async (t) => {
  const app = await startTestApp({ config: { server: { headers_timeout: '1s', request_timeout: '2s', keep_alive_timeout: '1s' } } });
  t.teardown(() => app.close());
  const port = app.app.port;

  t.test('slowloris: headers that never end → 408, connection closed, nothing forwarded', async (t) => {
    const before = app.upstream.received.length;
    const chunks = ['GET /public/slowloris HTTP/1.1\r\nHost: authgate.test\r\n', ...Array.from({ length: 100 }, (_, i) => `X-Drip-${i}: a\r\n`)];
    // 100 header lines 200 ms apart would take 20 s; the deadline (15 s) is ours, the cut must be the server's.
    const res = await rawExchange(port, { chunks, gapMs: 200, deadlineMs: 15_000 });
    t.ok(res.closedByServer, 'the server closed the connection');
    t.equal(res.status, 408, '408 Request Timeout');
    t.match(res.headers['content-type'] ?? '', /problem\+json/);
    t.equal(app.upstream.received.length, before, 'nothing forwarded');
  });

  t.test('slow body on an authgate endpoint → 408, closed', async (t) => {
    const head = requestBytes(['POST /auth/login HTTP/1.1', 'Host: authgate.test', 'Content-Type: application/json', 'Content-Length: 400']);
    const body = '{"email":"slow@example.com","password":"' + 'x'.repeat(300) + '"}';
    const chunks: Array<string | Buffer> = [head, ...body.split('')];
    const res = await rawExchange(port, { chunks, gapMs: 100, deadlineMs: 15_000 });
    t.ok(res.closedByServer, 'the server closed the connection');
    t.ok(res.status === 408 || res.status === 400, `answered 4xx (${res.status})`);
    t.notOk(res.statuses.some((s) => s >= 500), 'never a 5xx');
  });

  t.test('slow body on a proxied route → 4xx or cut, and the upstream never sees a complete request', async (t) => {
    const before = app.upstream.received.length;
    const head = requestBytes(['POST /public/slow-body HTTP/1.1', 'Host: authgate.test', 'Content-Type: text/plain', 'Content-Length: 300']);
    const chunks: Array<string | Buffer> = [head, ...'y'.repeat(300).split('')];
    const res = await rawExchange(port, { chunks, gapMs: 100, deadlineMs: 15_000 });
    t.ok(res.closedByServer, 'the server closed the connection');
    t.notOk(res.statuses.some((s) => s >= 500 && s !== 502), `no 5xx other than an upstream 502 (${JSON.stringify(res.statuses)})`);
    t.equal(app.upstream.received.length, before, 'no complete request reached the upstream');
  });

  t.test('idle keep-alive connection is closed after keep_alive_timeout', async (t) => {
    const res = await rawExchange(port, { chunks: [requestBytes(['GET /healthz HTTP/1.1', 'Host: authgate.test'])], deadlineMs: 15_000 });
    t.equal(res.status, 200, 'the request itself was served');
    t.ok(res.closedByServer, 'the idle connection was closed by the server, not by our deadline');
  });

  t.test('the server still serves normal clients afterwards', async (t) => {
    t.equal((await http(app.url, 'GET', '/public/after')).status, 200);
  });
});
