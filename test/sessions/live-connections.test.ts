// Live cut-off through the real proxy: an open WebSocket and a streamed response (upstream writes a
// chunk every 100 ms) are closed within 1 s of their session's revocation; a user disable closes every
// connection of that user; other sessions' connections stay open; and the cut works across instances.
import t, { type Test } from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import type { AdminScope } from '../../core/services/user-admin.service.js';
import { http, registerAndLogin, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { busHealthy, sharedRedis, uniqueChannel, waitFor } from './session-harness.js';

const sidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).sid as string;
const OPERATOR: AdminScope = { actor: 'cli:test', tenantId: null, meta: { ip: null, userAgent: null } };

interface LiveUpstream {
  url: string;
  close(): Promise<void>;
}

/** Upstream with /api/stream (a chunk every 100 ms, forever) and a WebSocket echo on /api/ws. */
async function startLiveUpstream(): Promise<LiveUpstream> {
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/api/stream')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let n = 0;
      const timer = setInterval(() => res.write(`data: ${n++}\n\n`), 100);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, path: '/api/ws' });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${String(m)}`)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const policyFor = (upstream: string) => () => `
version: 1
upstreams:
  live: ${upstream}
roles:
  user: { permissions: [profile:read] }
default: deny
routes:
  - name: live
    match: { path: "/api/**" }
    upstream: live
    access: authenticated
`;

interface OpenSocket {
  ws: WebSocket;
  closedAt: Promise<number>;
}

async function openSocket(base: string, token: string): Promise<OpenSocket> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/ws`, { headers: { authorization: `Bearer ${token}` } });
  const closedAt = new Promise<number>((resolve) => {
    ws.once('close', () => resolve(performance.now()));
    ws.once('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  const echoed = new Promise<string>((resolve) => ws.once('message', (m) => resolve(String(m))));
  ws.send('ping');
  if ((await echoed) !== 'echo:ping') throw new Error('no echo through the proxy');
  return { ws, closedAt };
}

/** Starts a streamed GET; resolves `ended` with the time the body stopped (error or end) and chunk counts. */
async function openStream(base: string, token: string) {
  const res = await request(`${base}/api/stream`, { headers: { authorization: `Bearer ${token}` } });
  if (res.statusCode !== 200) throw new Error(`stream refused: ${res.statusCode}`);
  let chunks = 0;
  const ended = new Promise<number>((resolve) => {
    res.body.on('data', () => (chunks += 1));
    res.body.once('error', () => resolve(performance.now()));
    res.body.once('end', () => resolve(performance.now()));
    res.body.once('close', () => resolve(performance.now()));
  });
  return { ended, chunks: () => chunks };
}

/** Resolves the latency (ms) when `p` settles before `deadlineMs`, else null. */
async function within(p: Promise<number>, since: number, deadlineMs: number): Promise<number | null> {
  const timeout = sleep(deadlineMs + 50).then(() => null);
  const at = await Promise.race([p, timeout]);
  return at === null ? null : Math.round(at - since);
}

async function withApp(t: Test): Promise<{ ta: TestApp; upstream: LiveUpstream }> {
  const upstream = await startLiveUpstream();
  const ta = await startTestApp({ policy: policyFor(upstream.url) });
  t.teardown(async () => {
    await ta.close();
    await upstream.close();
  });
  return { ta, upstream };
}

t.test('an open WebSocket is closed within 1 s of its session\'s revocation; another session\'s stays', async (t) => {
  const { ta } = await withApp(t);
  const user = await registerAndLogin(ta.url);
  const other = await http(ta.url, 'POST', '/auth/login', { json: { email: user.email, password: user.password } });
  const victim = await openSocket(ta.url, user.access);
  const bystander = await openSocket(ta.url, other.body.access_token);
  t.equal(ta.app.context.live.size, 2, 'both upgrades tracked');
  const since = performance.now();
  t.equal((await http(ta.url, 'DELETE', `/auth/sessions/${sidOf(user.access)}`, { token: other.body.access_token })).status, 204);
  const latency = await within(victim.closedAt, since, 1000);
  t.not(latency, null, 'revoked session\'s WebSocket closed within 1 s');
  t.comment(`WebSocket cut after ${latency ?? 'never'} ms`);
  await sleep(100);
  t.equal(bystander.ws.readyState, WebSocket.OPEN, 'the other session\'s WebSocket is still open');
  t.equal(ta.app.context.live.size, 1);
  bystander.ws.close();
});

t.test('a streamed response is cut within 1 s of its session\'s revocation', async (t) => {
  const { ta } = await withApp(t);
  const user = await registerAndLogin(ta.url);
  const stream = await openStream(ta.url, user.access);
  t.ok(await waitFor(() => stream.chunks() >= 2, 2000), 'chunks flowing through the proxy');
  const since = performance.now();
  t.equal((await http(ta.url, 'POST', '/auth/logout', { token: user.access })).status, 204);
  const latency = await within(stream.ended, since, 1000);
  t.not(latency, null, 'stream ended within 1 s');
  t.comment(`stream cut after ${latency ?? 'never'} ms`);
  const after = stream.chunks();
  await sleep(300);
  t.equal(stream.chunks(), after, 'no chunk arrives after the cut');
  t.equal(ta.app.context.live.size, 0, 'nothing left tracked');
});

t.test('disabling the user closes all of the user\'s connections (every session)', async (t) => {
  const { ta } = await withApp(t);
  const user = await registerAndLogin(ta.url);
  const second = await http(ta.url, 'POST', '/auth/login', { json: { email: user.email, password: user.password } });
  const stranger = await registerAndLogin(ta.url);
  const a = await openSocket(ta.url, user.access);
  const b = await openStream(ta.url, second.body.access_token);
  const s = await openSocket(ta.url, stranger.access);
  const since = performance.now();
  await ta.app.context.core.admin.users.disable(OPERATOR, user.userId);
  t.not(await within(a.closedAt, since, 1000), null, 'WebSocket of session 1 closed');
  t.not(await within(b.ended, since, 1000), null, 'stream of session 2 closed');
  t.equal(s.ws.readyState, WebSocket.OPEN, 'another user\'s WebSocket stays open');
  s.ws.close();
});

t.test('across instances (Redis): a revocation made on A closes the WebSocket carried by B within 1 s', async (t) => {
  const redis = await sharedRedis();
  if (!redis) return t.plan(0, 'no Redis (set TEST_REDIS_URL or install redis-server)');
  t.teardown(() => redis.close());
  const upstream = await startLiveUpstream();
  const db = await createTestDatabase('live');
  const config = { redis: { url: redis.url, revocation_channel: uniqueChannel() } };
  // Poll slowed to 10 min: only pub/sub can carry the event in time.
  const opts = { databaseUrl: db.url, policy: policyFor(upstream.url), config, revocationPollMs: 600_000, revocationHealthyPollMs: 600_000 };
  const a = await startTestApp(opts);
  const b = await startTestApp(opts);
  t.teardown(async () => {
    await a.close();
    await b.close();
    await upstream.close();
    await db.drop();
  });
  t.ok(await waitFor(() => busHealthy(a.app.context.core.revocation) && busHealthy(b.app.context.core.revocation), 5000));
  const user = await registerAndLogin(a.url);
  const sock = await openSocket(b.url, user.access);
  const since = performance.now();
  t.equal((await http(a.url, 'POST', '/auth/logout', { token: user.access })).status, 204);
  const latency = await within(sock.closedAt, since, 1000);
  t.not(latency, null, 'B closed the WebSocket within 1 s');
  t.comment(`cross-instance WebSocket cut after ${latency ?? 'never'} ms`);
});
