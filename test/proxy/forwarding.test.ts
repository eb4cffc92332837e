// Forwarding: bodies streamed byte-identical both ways, upstream down → 502 and the server keeps serving,
// slow upstream → 504, shadow mode forwards but counts would_deny, metrics exported, WebSocket allow/deny.
import t from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { startTestApp, loginWithRoles, http } from '../helpers/app.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

t.test('forwarding', async (t) => {
  const big = randomBytes(1024 * 1024 + 17);
  // An upstream that streams `big` back in small chunks, and one that answers too late.
  const streamer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked
      let off = 0;
      const pump = () => {
        while (off < big.length) {
          const chunk = big.subarray(off, off + 16 * 1024);
          off += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
  });
  const slow = createServer((req, res) => {
    req.resume();
    const timer = setTimeout(() => res.end('late'), 3000);
    res.on('close', () => clearTimeout(timer));
  });
  const streamerUrl = await listen(streamer);
  const slowUrl = await listen(slow);
  const dead = createServer();
  const deadUrl = await listen(dead);
  await new Promise<void>((r) => dead.close(() => r())); // nothing listens there any more
  t.teardown(async () => {
    streamer.closeAllConnections();
    slow.closeAllConnections();
    await new Promise<void>((r) => streamer.close(() => r()));
    await new Promise<void>((r) => slow.close(() => r()));
  });

  const app = await startTestApp({
    config: { server: { upstream_timeout: '400ms' } },
    policy: (echo) => `
version: 1
upstreams: { echo: ${echo}, streamer: ${streamerUrl}, slow: ${slowUrl}, dead: ${deadUrl} }
roles: { viewer: { permissions: [orders:read] }, admin: { permissions: ["*"] } }
routes:
  - { name: upload, match: { path: "/upload" }, upstream: echo, access: public }
  - { name: download, match: { path: "/download" }, upstream: streamer, access: public }
  - { name: slow, match: { path: "/slow" }, upstream: slow, access: public }
  - { name: dead, match: { path: "/dead" }, upstream: dead, access: public }
  - { name: trial, match: { path: "/trial/**" }, upstream: echo, require: { any_role: [admin] }, mode: shadow }
  - { name: orders, match: { path: "/api/orders/**" }, upstream: echo, require: { any_role: [viewer] } }
`,
  });
  t.teardown(() => app.close());

  t.test('1 MB request body arrives byte-identical (streamed, chunked)', async (t) => {
    async function* chunks() {
      for (let off = 0; off < big.length; off += 10_000) yield big.subarray(off, off + 10_000);
    }
    const res = await request(`${app.url}/upload`, { method: 'POST', body: Readable.from(chunks()) });
    const body = (await res.body.json()) as { body_bytes: number };
    t.equal(res.statusCode, 200);
    t.equal(body.body_bytes, big.length);
    t.equal(sha(app.upstream.received.at(-1)!.body), sha(big));
    const withLength = await request(`${app.url}/upload`, { method: 'PUT', body: big });
    await withLength.body.text();
    t.equal(sha(app.upstream.received.at(-1)!.body), sha(big), 'with Content-Length too');
  });

  t.test('1 MB response body arrives byte-identical', async (t) => {
    const res = await request(`${app.url}/download`);
    t.equal(res.statusCode, 200);
    t.equal(sha(Buffer.from(await res.body.arrayBuffer())), sha(big));
  });

  t.test('upstream down → 502, and the server keeps serving', async (t) => {
    for (let i = 0; i < 3; i++) {
      const res = await http(app.url, 'GET', '/dead');
      t.equal(res.status, 502);
      t.equal(res.body.code, 'ERR_UPSTREAM_UNAVAILABLE');
      t.equal(res.headers['content-type'], 'application/problem+json');
    }
    t.equal((await http(app.url, 'POST', '/upload', { body: 'still here' })).status, 200);
  });

  t.test('slow upstream → 504', async (t) => {
    const res = await http(app.url, 'GET', '/slow');
    t.equal(res.status, 504);
    t.equal(res.body.code, 'ERR_UPSTREAM_TIMEOUT');
    t.equal((await http(app.url, 'POST', '/upload', { body: 'x' })).status, 200);
  });

  t.test('shadow mode forwards, logs and counts would_deny', async (t) => {
    const viewer = await loginWithRoles(app, ['viewer']);
    const anon = await http(app.url, 'GET', '/trial/a');
    t.equal(anon.status, 200, 'anonymous forwarded on a shadow route');
    t.notOk(anon.body.headers['x-auth-user-id'], 'anonymous: no identity');
    const bad = await http(app.url, 'GET', '/trial/b', { token: 'garbage.token.here', headers: { 'x-auth-user-id': 'spoof' } });
    t.equal(bad.status, 200);
    t.notOk(bad.body.headers['x-auth-user-id'], 'invalid token: forwarded anonymous, spoof stripped');
    const denied = await http(app.url, 'GET', '/trial/c', { token: viewer.access });
    t.equal(denied.status, 200, 'policy denial forwarded in shadow mode');
    t.equal(denied.body.headers['x-auth-user-id'], viewer.userId, 'a valid identity is still injected');
    const metrics = await http(app.url, 'GET', '/metrics');
    t.match(metrics.text, /authgate_requests_total\{route="trial",decision="would_deny"\} 3/);
    // enforce-mode denials are counted as deny
    t.equal((await http(app.url, 'GET', '/api/orders/1')).status, 401);
    const m2 = await http(app.url, 'GET', '/metrics');
    t.match(m2.text, /authgate_requests_total\{route="orders",decision="deny"\} 1/);
    t.match(m2.text, /authgate_requests_total\{route="upload",decision="allow"\} \d+/);
    t.match(m2.text, /authgate_upstream_duration_seconds_count\{upstream="echo"\} \d+/);
    t.match(m2.text, /authgate_token_cache_total\{result="(hit|miss)"\} \d+/);
  });
});

t.test('WebSocket upgrades go through the pipeline', async (t) => {
  const wsUpstream = createServer();
  const wss = new WebSocketServer({ server: wsUpstream });
  const seen: Array<{ url: string; user: string | undefined; spoof: boolean }> = [];
  wss.on('connection', (socket, req) => {
    seen.push({ url: req.url ?? '', user: req.headers['x-auth-user-id'] as string | undefined, spoof: req.rawHeaders.includes('spoofed') });
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  const wsUrl = await listen(wsUpstream);
  t.teardown(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    wsUpstream.closeAllConnections();
    await new Promise<void>((r) => wsUpstream.close(() => r()));
  });
  const app = await startTestApp({
    policy: () => `
version: 1
upstreams: { ws: ${wsUrl} }
roles: { viewer: { permissions: [orders:read] } }
routes:
  - { name: live, match: { path: "/live/**" }, upstream: ws, require: { any_role: [viewer] } }
`,
  });
  t.teardown(() => app.close());
  const viewer = await loginWithRoles(app, ['viewer']);
  const other = await loginWithRoles(app, []);
  const wsBase = app.url.replace('http', 'ws');

  const open = (path: string, headers: Record<string, string>) =>
    new Promise<{ ws?: WebSocket; status?: number; body?: string }>((resolve) => {
      const ws = new WebSocket(`${wsBase}${path}`, { headers });
      ws.once('open', () => resolve({ ws }));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.once('error', () => resolve({ status: -1 }));
    });

  const anon = await open('/live/feed', {});
  t.equal(anon.status, 401, 'no token: 401 before the upgrade');
  const forbidden = await open('/live/feed', { authorization: `Bearer ${other.access}` });
  t.equal(forbidden.status, 403, 'wrong role: 403 before the upgrade');
  t.equal(JSON.parse(forbidden.body ?? '{}').code, 'ERR_POLICY_DENIED');
  const bad = await open('/live/%2e%2e/x', { authorization: `Bearer ${viewer.access}` });
  t.equal(bad.status, 403, '/live/%2e%2e/x normalises to /x: unmatched, default deny');
  t.equal(JSON.parse(bad.body ?? '{}').code, 'ERR_ROUTE_DENIED');
  t.equal(seen.length, 0, 'no denied upgrade reached the upstream');

  const ok = await open('/live/./feed?x=1', { authorization: `Bearer ${viewer.access}`, 'x-auth-user-id': 'spoofed' });
  t.ok(ok.ws, 'allowed upgrade opens');
  const echoed = await new Promise<string>((resolve) => {
    ok.ws!.once('message', (d) => resolve(d.toString()));
    ok.ws!.send('hello through authgate');
  });
  t.equal(echoed, 'hello through authgate');
  t.same(seen, [{ url: '/live/feed?x=1', user: viewer.userId, spoof: false }]);
  t.equal(app.app.context.live.size, 1, 'the upgraded connection is tracked by session');
  const closed = new Promise<number>((r) => ok.ws!.once('close', (code) => r(code)));
  t.equal(app.app.context.live.closeSession(JSON.parse(Buffer.from(viewer.access.split('.')[1]!, 'base64url').toString()).sid), 1);
  await closed;
  t.pass('closeSession cut the live WebSocket');
});
