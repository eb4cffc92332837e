// Fault: the upstream misbehaves — killed (connection refused), silent (never answers), resets the
// connection before answering, resets it mid-body, or answers with bytes that are not HTTP. Clients get
// 502 / 504 problem+json (or, when the status line was already relayed, a cut connection), nothing crashes,
// and the proxy's sockets and heap return to their baseline.
import t from 'tap';
import { createServer, Socket, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Agent, request } from 'undici';
import { http, registerAndLogin, startTestApp } from '../helpers/app.js';
import { freePort, waitFor } from './fault-harness.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A raw TCP "upstream" whose behaviour is chosen by the request path (/api/<mode>/…). */
function startFaultyUpstream(): Promise<{ server: Server; port: number; open: Set<Socket>; seen: string[] }> {
  const open = new Set<Socket>();
  const seen: string[] = [];
  const server = createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const path = buf.split(' ')[1] ?? '';
      buf = '';
      const mode = path.split('/')[2] ?? '';
      seen.push(mode);
      switch (mode) {
        case 'ok':
          socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
          break;
        case 'silent': // accepts the request and never answers
          break;
        case 'reset-before':
          socket.resetAndDestroy();
          break;
        case 'garbage':
          socket.end('THIS IS NOT HTTP AT ALL\r\n\x00\x01\x02\r\n\r\n');
          break;
        case 'bad-status':
          socket.end('HTTP/1.1 2000 Whatever\r\nContent-Length: 0\r\n\r\n');
          break;
        case 'reset-mid':
          socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\npartial body');
          setTimeout(() => socket.resetAndDestroy(), 20);
          break;
        default:
          socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, open, seen })));
}

t.test('upstream faults become 502/504 and leak nothing', async (t) => {
  const faulty = await startFaultyUpstream();
  t.teardown(() => new Promise<void>((r) => faulty.server.close(() => r())));
  const deadPort = await freePort(); // nothing listens here: the "killed" upstream
  const policy = (echo: string) => `
version: 1
upstreams:
  faulty: http://127.0.0.1:${faulty.port}
  dead: http://127.0.0.1:${deadPort}
  echo: ${echo}
roles: { user: { permissions: [] } }
default: deny
routes:
  - { name: dead, match: { path: "/api/dead/**" }, upstream: dead, access: authenticated }
  - { name: faulty, match: { path: "/api/**" }, upstream: faulty, access: authenticated }
`;
  const app = await startTestApp({ policy, config: { server: { upstream_timeout: '700ms' } } });
  t.teardown(() => app.close());
  const user = await registerAndLogin(app.url);
  const agent = new Agent({ connections: 64 });
  const get = async (path: string) => {
    const res = await request(`${app.url}${path}`, { dispatcher: agent, headers: { authorization: `Bearer ${user.access}` } });
    let text = '';
    let cut: string | null = null;
    try {
      text = await res.body.text();
    } catch (err) {
      cut = (err as Error).message;
    }
    return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), text, cut };
  };

  // Warm up, then take the baseline: connections into the proxy and the faulty upstream, and heap.
  for (let i = 0; i < 20; i++) t.equal((await get(`/api/ok/${i}`)).status, 200);
  await agent.close();
  await waitFor('proxy to have no client connections', () => new Promise<boolean>((r) => app.app.server.getConnections((_e, n) => r(n === 0))));
  gc();
  const heapBaseline = process.memoryUsage().heapUsed;
  const upstreamBaseline = faulty.open.size; // idle keep-alive connections of the proxy's pool
  const handlesBaseline = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => h instanceof Socket).length;

  const expectations: Array<[string, number, string]> = [
    ['dead', 502, 'ERR_UPSTREAM_UNAVAILABLE'],
    ['silent', 504, 'ERR_UPSTREAM_TIMEOUT'],
    ['reset-before', 502, 'ERR_UPSTREAM_UNAVAILABLE'],
    ['garbage', 502, 'ERR_UPSTREAM_UNAVAILABLE'],
    ['bad-status', 502, 'ERR_UPSTREAM_UNAVAILABLE'],
  ];
  const client = new Agent({ connections: 64 });
  const getC = async (path: string) => {
    const res = await request(`${app.url}${path}`, { dispatcher: client, headers: { authorization: `Bearer ${user.access}` } });
    let text = '';
    let cut: string | null = null;
    try {
      text = await res.body.text();
    } catch (err) {
      cut = (err as Error).message;
    }
    return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), text, cut };
  };
  const ROUNDS = 40;
  for (const [mode, status, code] of expectations) {
    const results = await Promise.all(Array.from({ length: ROUNDS }, (_, i) => getC(`/api/${mode}/${i}`)));
    const statuses = new Set(results.map((r) => r.status));
    t.same([...statuses], [status], `${mode}: every one of ${ROUNDS} requests → ${status}`);
    const first = results[0]!;
    t.match(first.type, /application\/problem\+json/, `${mode}: problem+json`);
    t.equal(JSON.parse(first.text).code, code, `${mode}: code ${code}`);
    t.notMatch(first.text, /ECONNREFUSED|ECONNRESET|undici|at .*\.js/, `${mode}: no internals in the body`);
  }

  // Reset in the middle of the body: the 200 status line was already relayed, so the only honest signal
  // left is to cut the client's connection (never a silently truncated "complete" body).
  const mid = await Promise.all(Array.from({ length: ROUNDS }, (_, i) => getC(`/api/reset-mid/${i}`)));
  t.ok(mid.every((r) => r.status === 200 && r.cut !== null), 'reset mid-body: headers relayed, then the client connection is cut');
  t.ok(mid.every((r) => r.text.length < 100000), 'no client believes it got the full body');

  // The proxy survives all of it and still serves.
  t.equal((await getC('/api/ok/after')).status, 200, 'healthy requests still served afterwards');
  t.equal((await http(app.url, 'GET', '/healthz')).status, 200);

  // Resources back to baseline: the proxy holds no sockets to the faulty upstream beyond its idle pool,
  // no client connections once the client is gone, and the heap is back near its baseline.
  await client.close();
  await waitFor('proxy connections to drain', () => new Promise<boolean>((r) => app.app.server.getConnections((_e, n) => r(n === 0))));
  await waitFor('upstream sockets back to baseline', () => faulty.open.size <= Math.max(upstreamBaseline, 1), 15_000);
  await waitFor(
    'open socket handles back to baseline',
    () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => h instanceof Socket).length <= handlesBaseline,
    15_000,
  );
  t.pass(`sockets back to baseline (upstream ${faulty.open.size} ≤ ${Math.max(upstreamBaseline, 1)}, handles ≤ ${handlesBaseline})`);
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  const growthMb = (heapAfter - heapBaseline) / 1048576;
  t.comment(`heap: baseline ${(heapBaseline / 1048576).toFixed(1)} MB, after ${ROUNDS * (expectations.length + 1)} faulted requests ${(heapAfter / 1048576).toFixed(1)} MB`);
  // Generous bound: a leak of per-request state (buffers, sockets, timers) over 240 requests would exceed it.
  t.ok(growthMb < 16, `heap back near baseline (growth ${growthMb.toFixed(1)} MB < 16 MB)`);
});
