// `npm run bench`: proxy throughput on 127.0.0.1, all measured in one run and bounded in time:
//   1. direct to the echo upstream,
//   2. through a bare keep-alive http-proxy (the baseline a reverse proxy costs),
//   3. through authgate with a valid bearer token on an authenticated route with a role requirement
//      (normalise + trie match + strip + token cache hit + revocation + authorize + inject + forward).
// Prints req/s, p50/p99 latency and the ratios to the bare proxy. Usage: node bench/run.js [--seconds N]
// [--connections N]. Needs dist/ (npm run bench builds it first).
/* global fetch */
import { Agent, createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import httpProxy from 'http-proxy';
import { loadConfig } from '../dist/config/load-config.js';
import { startApp } from '../dist/proxy/app.js';
import { startEchoUpstream } from '../dist/proxy/demo/demo-upstream.js';
import { createLogger } from '../dist/core/logger.js';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const SECONDS = arg('seconds', 8);
const CONNECTIONS = arg('connections', 50);

function cannon(url, headers = {}) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function postJson(base, path, body, token) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const dir = mkdtempSync(join(tmpdir(), 'authgate-bench-'));
const upstream = await startEchoUpstream(0);

// 2. bare keep-alive http-proxy
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const bare = httpProxy.createProxyServer({ target: upstream.url, agent });
bare.on('error', (_err, _req, res) => res.writeHead?.(502).end?.());
const bareServer = createServer((req, res) => bare.web(req, res));
await new Promise((r) => bareServer.listen(0, '127.0.0.1', r));
const bareUrl = `http://127.0.0.1:${bareServer.address().port}`;

// 3. authgate
const policyFile = join(dir, 'policies.yaml');
writeFileSync(
  policyFile,
  `version: 1
upstreams: { app: ${upstream.url} }
roles: { viewer: { permissions: [orders:read] }, editor: { inherits: [viewer], permissions: [orders:write] } }
routes:
  - { name: health, match: { methods: [GET], path: /health }, upstream: app, access: public }
  - { name: orders-write, match: { methods: [POST, PUT], path: "/api/orders/**" }, upstream: app, require: { permissions: [orders:write] } }
  - { name: orders-read, match: { methods: [GET, HEAD], path: "/api/orders/**" }, upstream: app, require: { any_role: [viewer], permissions: [orders:read] } }
`,
);
const config = loadConfig({
  env: {},
  overrides: {
    server: { port: 0, host: '127.0.0.1', public_url: 'http://authgate.bench' },
    database: { url: `sqlite:${join(dir, 'bench.sqlite')}` },
    // The global per-IP limit (600/min by default) would turn a benchmark from one address into 429s.
    security: { bcrypt_cost: 4, rate_limit_ip_points: 0 },
    mail: { outbox_dir: join(dir, 'outbox') },
    policies: { file: policyFile, watch: false },
    log: { level: 'silent' },
  },
});
const app = await startApp(config, { migrate: true, logger: createLogger('silent') });
const email = `bench.${Date.now()}@example.com`;
const password = 'correct horse battery staple';
const reg = await postJson(app.url, '/auth/register', { email, username: 'bench', password });
const core = app.context.core;
const tenant = await core.tenants.resolve(undefined);
await core.repos.users.update(tenant.id, reg.user.id, { roles: ['viewer'] }, new Date());
const login = await postJson(app.url, '/auth/login', { email, password });
const token = login.access_token;
const check = await fetch(`${app.url}/api/orders/1`, { headers: { authorization: `Bearer ${token}` } });
if (check.status !== 200) throw new Error(`authgate check request: ${check.status} ${await check.text()}`);
await check.text();

const runs = [];
process.stdout.write(`bench: ${SECONDS}s each, ${CONNECTIONS} connections, GET /api/orders/1 on 127.0.0.1 (node ${process.version})\n`);
for (const [name, url, headers] of [
  ['direct upstream', `${upstream.url}/api/orders/1`, {}],
  ['bare http-proxy', `${bareUrl}/api/orders/1`, {}],
  ['authgate (token, role)', `${app.url}/api/orders/1`, { authorization: `Bearer ${token}` }],
]) {
  const r = await cannon(url, headers);
  const bad = r.non2xx + r.errors + r.timeouts;
  runs.push({ name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad });
}
const base = runs[1].rps;
const pad = (s, n) => String(s).padEnd(n);
process.stdout.write(`\n${pad('target', 26)}${pad('req/s', 12)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('vs bare proxy', 15)}non-2xx/errors\n`);
for (const r of runs) {
  process.stdout.write(`${pad(r.name, 26)}${pad(Math.round(r.rps), 12)}${pad(r.p50, 9)}${pad(r.p99, 9)}${pad((r.rps / base).toFixed(2) + 'x', 15)}${r.bad}\n`);
}

await app.close();
bareServer.close();
bare.close();
agent.destroy();
await upstream.close();
rmSync(dir, { recursive: true, force: true });
