// `npm run bench`: authgate's proxy overhead against a bare Node proxy and nginx, policy cost with 10 vs
// 10,000 routes, logins against raw bcrypt, p99 under a login storm and RSS with idle connections (issue 9).
// Everything runs on 127.0.0.1 in separate processes (upstream, proxies, authgate via `node bin/authgate.js
// serve`, autocannon CLI as load generator) and is bounded in time. Prints one line per scenario, then the
// ratios, and writes every figure to bench/results/latest.json. docs/benchmarks.md explains the scenarios.
//
// Usage: node bench/run.js [--quick] [--runs N] [--seconds S] [--connections C] [--only a,b] [--profile]
//                          [--out FILE]
//   BENCH_RUNS=3 takes the median of 3 interleaved rounds per throughput scenario (default 1).
//   --profile runs the full-pipeline authgate with --cpu-prof (profiles in bench/results/profiles/).
// Needs dist/ (npm run bench builds it first). Redis scenario when redis://127.0.0.1:6379 answers
// (REDIS_URL overrides); nginx scenario when /usr/sbin/nginx exists.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const AUTOCANNON = join(ROOT, 'node_modules/autocannon/autocannon.js');
const NGINX = '/usr/sbin/nginx';

// ───────────────────────────── options ─────────────────────────────
function flag(name) {
  return process.argv.includes(`--${name}`);
}
function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}
const QUICK = flag('quick');
const RUNS = Number(option('runs', process.env.BENCH_RUNS ?? '1'));
const SECONDS = Number(option('seconds', QUICK ? '1' : '5'));
const WARMUP = QUICK ? 0.3 : 2;
const CONNECTIONS = Number(option('connections', '50'));
const ONLY = option('only', null)?.split(',') ?? null;
const PROFILE = flag('profile');
const OUT = resolve(option('out', join(ROOT, 'bench/results/latest.json')));
const BCRYPT_COST = 10;
const LOGIN_CONNECTIONS = 8;
const IDLE_CONNECTIONS = Number(option('idle', QUICK ? '1000' : '10000'));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PASSWORD = 'correct horse battery staple';
// Logins write sessions, refresh tokens and audit rows: PostgreSQL (a fresh database per authgate, dropped
// afterwards) when it answers, as in production; SQLite otherwise (BENCH_DB=sqlite forces it).
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_KIND = process.env.BENCH_DB ?? 'auto';
const pgDatabases = [];
const wanted = (name) => ONLY === null || ONLY.includes(name);

const work = mkdtempSync(join(tmpdir(), 'authgate-bench-'));
const children = [];
const log = (line) => process.stderr.write(`bench: ${line}\n`);

// ───────────────────────────── processes ─────────────────────────────
/** Spawns a child with the hard fd limit as soft limit (10k idle connections need it), tracked for cleanup. */
function start(name, command, args, { env = {}, cwd = ROOT } = {}) {
  const quoted = [command, ...args].map((a) => `'${String(a).replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('/bin/sh', ['-c', `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${quoted}`], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.name = name;
  child.stderrText = '';
  child.stderr.on('data', (d) => {
    child.stderrText = (child.stderrText + d.toString()).slice(-4000);
  });
  children.push(child);
  return child;
}

/** Resolves with the first stdout line that `pick` accepts (parsed JSON), or rejects when the child exits. */
function firstLine(child, pick, timeoutMs = 60_000) {
  return new Promise((resolvePromise, reject) => {
    const rl = createInterface({ input: child.stdout });
    const timer = setTimeout(() => fail(new Error(`${child.name}: no ready line within ${timeoutMs} ms\n${child.stderrText}`)), timeoutMs);
    const onExit = (code) => fail(new Error(`${child.name} exited with ${code}\n${child.stderrText}`));
    function fail(err) {
      clearTimeout(timer);
      child.off('exit', onExit);
      rl.close();
      reject(err);
    }
    child.once('exit', onExit);
    rl.on('line', (line) => {
      let value;
      try {
        value = JSON.parse(line);
      } catch {
        return;
      }
      const picked = pick(value);
      if (picked === undefined) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      rl.close();
      child.stdout.resume();
      resolvePromise(picked);
    });
  });
}

async function stop(child, signal = 'SIGTERM', waitMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), waitMs);
  await once(child, 'exit');
  clearTimeout(timer);
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function waitForPort(port, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((r) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** User + system CPU of processes (all threads), in µs, from /proc (0 where unreadable). */
function cpuUs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks * TICK_US;
}

/** A process and its direct children (nginx master + workers). */
function withChildren(pid) {
  try {
    return [pid, ...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [pid];
  }
}

/** PIDs whose command name is `name` (used read-only, to account redis-server's CPU). */
function pidsNamed(name) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** The authgate process PID (the shell wrapper `exec`s node, so it is the child's own pid). */
const pidOf = (child) => child.pid;

// ───────────────────────────── load generator ─────────────────────────────
/** One autocannon run in its own process (so it does not share authgate's or the bench's event loop). */
async function cannon(url, { connections = CONNECTIONS, seconds = SECONDS, headers = {}, method, body, rate } = {}) {
  const args = [AUTOCANNON, '-j', '-n', '-c', connections, '-d', seconds, '-t', 10];
  if (rate !== undefined) args.push('-R', rate);
  if (method) args.push('-m', method);
  if (body !== undefined) args.push('-b', body);
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  args.push(url);
  const child = start('autocannon', process.execPath, args);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const [code] = await once(child, 'exit');
  children.splice(children.indexOf(child), 1);
  if (code !== 0) throw new Error(`autocannon exited with ${code}: ${child.stderrText}`);
  const r = JSON.parse(out);
  return {
    rps: r.requests.average,
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ───────────────────────────── HTTP helpers (setup only) ─────────────────────────────
async function call(base, method, path, { json, token } = {}) {
  const headers = {};
  if (json !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

// ───────────────────────────── what is started ─────────────────────────────
function policyYaml(upstreamUrl, routes) {
  const lines = [
    'version: 1',
    `upstreams: { app: "${upstreamUrl}" }`,
    'roles:',
    '  viewer: { permissions: [orders:read, profile:read] }',
    '  editor: { inherits: [viewer], permissions: [orders:write] }',
    'default: deny',
    'routes:',
    '  - { name: health, match: { methods: [GET], path: /health }, upstream: app, access: public }',
  ];
  // Filler routes that the benchmarked request does not match: the orders route below is the LAST declared
  // matching route, the worst case for a linear scan.
  for (let i = 0; i < routes - 2; i++) {
    lines.push(`  - { name: r${i}, match: { methods: [GET, POST], path: "/svc${i}/items/:id" }, upstream: app, require: { any_role: [viewer] } }`);
  }
  lines.push(
    '  - name: orders-read',
    '    match: { methods: [GET, HEAD], path: "/api/orders/**" }',
    '    upstream: app',
    '    require: { any_role: [viewer], permissions: [orders:read] }',
    // Generous: counted on every request, never refused.
    '    rate_limit: { points: 1000000000, per: 60s, by: user }',
  );
  return `${lines.join('\n')}\n`;
}

/** Starts `authgate serve` with its own SQLite database, registers a viewer and logs in; returns its URL and token. */
async function startAuthgate(name, upstreamUrl, { routes = 10, redis = false, profile = false } = {}) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'policies.yaml'), policyYaml(upstreamUrl, routes));
  const unique = `authgate-bench-${process.pid}-${Date.now()}-${name}`;
  const config = {
    server: { port: 0, host: '127.0.0.1', public_url: 'http://authgate.bench', keep_alive_timeout: '120s' },
    database: { url: await databaseUrl(name, dir) },
    redis: redis ? { rate_limit_prefix: `${unique}:rl`, revocation_channel: `${unique}:revocations` } : {},
    tokens: { access_ttl: '1h' },
    security: {
      bcrypt_cost: BCRYPT_COST,
      default_role: 'viewer',
      // The global per-IP limit stays on (it is on in production) but can never refuse a benchmark from one address.
      rate_limit_ip_points: 1_000_000,
      rate_limit_ip_per: '1s',
      // Logins are measured as successful logins at the bcrypt limit: the per-IP endpoint limit is off and
      // concurrent successful logins of one account never reach the lockout reservation limit.
      rate_limit_auth_points: 0,
      login_max_failures: 1000,
    },
    mail: { outbox_dir: join(dir, 'outbox') },
    policies: { file: join(dir, 'policies.yaml'), watch: false },
    log: { level: 'info' },
  };
  writeFileSync(join(dir, 'authgate.yaml'), JSON.stringify(config, null, 2)); // JSON is YAML
  // Profiles are named CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile (thread 0 = the event loop);
  // results.profiles maps the pid to the instance.
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/profiles')}`] : [];
  const child = start(`authgate:${name}`, process.execPath, [...nodeArgs, join(ROOT, 'bin/authgate.js'), 'serve', '--config', join(dir, 'authgate.yaml')], {
    // BENCH_AUTHGATE_NODE_OPTIONS: V8/Node flags for the authgate processes only (e.g. --max-semi-space-size=4).
    env: { ...(redis ? { REDIS_URL } : {}), ...(process.env.BENCH_AUTHGATE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_AUTHGATE_NODE_OPTIONS } : {}) },
  });
  const url = await firstLine(child, (v) => (v.msg === 'authgate listening' ? v.url : undefined));
  if (profile) (results.profiles ??= {})[child.pid] = name;
  // After start-up, any log line per request would show here: count them (the target is none per allowed request).
  child.logLines = 0;
  const logDir = join(dirname(OUT), 'logs');
  mkdirSync(logDir, { recursive: true });
  writeFileSync(join(logDir, `${name}.log`), '');
  createInterface({ input: child.stdout }).on('line', (line) => {
    child.logLines++;
    if (child.logLines <= 1000) appendFileSync(join(logDir, `${name}.log`), `${line}\n`);
  });
  const email = `bench.${name}@example.com`;
  const reg = await call(url, 'POST', '/auth/register', { json: { email, username: `bench-${name}`, password: PASSWORD } });
  if (reg.status !== 201 && reg.status !== 200) throw new Error(`${name}: register ${reg.status} ${reg.text}`);
  const login = await call(url, 'POST', '/auth/login', { json: { email, password: PASSWORD } });
  if (login.status !== 200) throw new Error(`${name}: login ${login.status} ${login.text}`);
  const token = JSON.parse(login.text).access_token;
  const check = await call(url, 'GET', '/api/orders/1', { token });
  if (check.status !== 200 || check.headers.get('x-seen-user') === '-') throw new Error(`${name}: full pipeline check ${check.status} ${check.text}`);
  if (!check.headers.get('ratelimit-limit')) throw new Error(`${name}: the route rate limit did not apply`);
  const pub = await call(url, 'GET', '/health');
  if (pub.status !== 200) throw new Error(`${name}: public route ${pub.status}`);
  return { child, url, token, email, pid: pidOf(child) };
}

let pgAvailable = null;
async function databaseUrl(name, dir) {
  if (DB_KIND !== 'sqlite') {
    if (pgAvailable === null) pgAvailable = await pgQuery('select 1').then(() => true, () => false);
    if (!pgAvailable && DB_KIND === 'postgres') throw new Error(`BENCH_DB=postgres but ${PG_ADMIN_URL} does not answer`);
    if (pgAvailable) {
      const db = `authgate_bench_${process.pid}_${name}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
      await pgQuery(`create database ${db}`);
      pgDatabases.push(db);
      const url = new URL(PG_ADMIN_URL);
      url.pathname = `/${db}`;
      return url.toString();
    }
  }
  return `sqlite:${join(dir, 'authgate.sqlite')}`;
}

async function pgQuery(sql) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function startNginx(upstreamPort) {
  if (!existsSync(NGINX)) return null;
  const dir = join(work, 'nginx');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const port = await freePort();
  // One worker: the same single core a Node process uses. Keep-alive to the upstream (proxy_http_version
  // 1.1 + an empty Connection header + an upstream keepalive pool).
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_requests 1000000;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 128; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  const child = start('nginx', NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
  await waitForPort(port);
  return { child, url: `http://127.0.0.1:${port}` };
}

async function redisAvailable() {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((r) => {
    const s = connect({ host: hostname, port: Number(port || 6379) }, () => s.write('PING\r\n'));
    s.setTimeout(1000, () => {
      s.destroy();
      r(false);
    });
    s.on('data', (d) => {
      s.destroy();
      r(d.toString().startsWith('+PONG'));
    });
    s.on('error', () => r(false));
  });
}

/** Removes the bench's rate-limit keys (unique prefix) from Redis. */
async function cleanRedis(prefix) {
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ───────────────────────────── the run ─────────────────────────────
const results = {
  started_at: new Date().toISOString(),
  authgate_node_options: process.env.BENCH_AUTHGATE_NODE_OPTIONS ?? null,
  node: process.version,
  cpus: cpus().length,
  load_average_before: loadavg().map((x) => Number(x.toFixed(2))),
  settings: { quick: QUICK, runs: RUNS, seconds: SECONDS, connections: CONNECTIONS, bcrypt_cost: BCRYPT_COST, idle_connections: IDLE_CONNECTIONS },
  scenarios: {},
  ratios: {},
  notes: [],
};

let exitCode = 0;

async function main() {
  const upstream = start('echo-upstream', process.execPath, [join(ROOT, 'bench/lib/echo-upstream.js')]);
  const upstreamPort = await firstLine(upstream, (v) => v.port);
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  const bare = start('bare-proxy', process.execPath, [join(ROOT, 'bench/lib/bare-proxy.js'), upstreamUrl]);
  const barePort = await firstLine(bare, (v) => v.port);
  const nginx = wanted('nginx') ? await startNginx(upstreamPort) : null;
  if (nginx === null && wanted('nginx')) results.notes.push('nginx scenario skipped: /usr/sbin/nginx not found');
  const useRedis = wanted('redis') && (await redisAvailable());
  if (wanted('redis') && !useRedis) results.notes.push(`redis scenario skipped: ${REDIS_URL} does not answer PING`);
  // Started side by side (start-up is migrations + key generation); measured one at a time.
  const [memory, redis, big] = await Promise.all([
    startAuthgate('memory', upstreamUrl, { routes: 10, profile: PROFILE }),
    useRedis ? startAuthgate('redis', upstreamUrl, { routes: 10, redis: true, profile: PROFILE }) : null,
    wanted('routes') ? startAuthgate('routes10k', upstreamUrl, { routes: 10_000, profile: PROFILE }) : null,
  ]);

  const path = '/api/orders/1';
  const auth = (t) => ({ authorization: `Bearer ${t}` });
  /** Throughput scenarios, measured in interleaved rounds so slow drifts in machine load hit all alike. */
  const throughput = [
    // Order: the figures of each ratio are measured next to each other (full between bare and redis).
    ['direct', 'direct to the echo upstream', `${upstreamUrl}${path}`, {}, []],
    ...(nginx ? [['nginx', 'nginx keep-alive reverse proxy (1 worker)', `${nginx.url}${path}`, {}, withChildren(nginx.child.pid)]] : []),
    ['bare', 'bare keep-alive http-proxy (Node floor)', `http://127.0.0.1:${barePort}${path}`, {}, [bare.pid]],
    ['full', 'authgate full pipeline (token, role+perm, memory rate limit, identity headers)', `${memory.url}${path}`, auth(memory.token), [memory.pid]],
    ...(redis
      ? [['redis', 'authgate full pipeline, Redis rate limits + Redis revocation bus', `${redis.url}${path}`, auth(redis.token), [redis.pid], pidsNamed('redis-server')]]
      : []),
    ['public', 'authgate public route', `${memory.url}/health`, {}, [memory.pid]],
    ...(big
      ? [
          ['routes10', 'full pipeline, 10 routes (last-declared route matches)', `${memory.url}${path}`, auth(memory.token), [memory.pid]],
          ['routes10k', 'full pipeline, 10,000 routes (last-declared route matches)', `${big.url}${path}`, auth(big.token), [big.pid]],
        ]
      : []),
  ].filter(([key]) => wanted(key) || (key.startsWith('routes') && wanted('routes')) || (key === 'full' && wanted('storm')));

  for (const [, , url, headers] of throughput) await cannon(url, { seconds: WARMUP, headers }); // JIT warm-up
  const samples = Object.fromEntries(throughput.map(([key]) => [key, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const [key, label, url, headers, proxyPids, extraPids = []] of throughput) {
      // CPU per request of the proxy process (and of redis-server): robust to machine load, unlike req/s.
      const before = [cpuUs(proxyPids), cpuUs([upstream.pid]), cpuUs(extraPids)];
      const r = await cannon(url, { headers });
      const after = [cpuUs(proxyPids), cpuUs([upstream.pid]), cpuUs(extraPids)];
      r.proxyCpuUs = proxyPids.length ? (after[0] - before[0]) / r.total : null;
      r.upstreamCpuUs = (after[1] - before[1]) / r.total;
      r.extraCpuUs = extraPids.length ? (after[2] - before[2]) / r.total : null;
      samples[key].push(r);
      log(
        `round ${round + 1}/${RUNS} ${key.padEnd(10)} ${Math.round(r.rps)} req/s  p99 ${r.p99} ms  errors ${r.errors} non2xx ${r.non2xx}` +
          `${r.proxyCpuUs === null ? '' : `  proxy ${r.proxyCpuUs.toFixed(0)} µs CPU/req`}${r.extraCpuUs === null ? '' : `  redis-server ${r.extraCpuUs.toFixed(0)} µs/req`}  (${label})`,
      );
    }
  }
  for (const [key, label] of throughput) {
    const runs = samples[key];
    const med = median(runs.map((r) => r.rps));
    const at = runs.reduce((best, r) => (Math.abs(r.rps - med) < Math.abs(best.rps - med) ? r : best), runs[0]);
    results.scenarios[key] = {
      label,
      rps: Math.round(med),
      p50_ms: at.p50,
      p99_ms: at.p99,
      errors: runs.reduce((n, r) => n + r.errors, 0),
      non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
      runs: runs.map((r) => Math.round(r.rps)),
      proxy_cpu_us_per_req: runs[0].proxyCpuUs === null ? null : Number(median(runs.map((r) => r.proxyCpuUs)).toFixed(1)),
      upstream_cpu_us_per_req: Number(median(runs.map((r) => r.upstreamCpuUs)).toFixed(1)),
      ...(runs[0].extraCpuUs === null ? {} : { redis_server_cpu_us_per_req: Number(median(runs.map((r) => r.extraCpuUs)).toFixed(1)) }),
    };
  }

  // 8. logins/s vs raw bcrypt.compare at the same cost (successful logins only).
  if (wanted('logins')) {
    const loginBody = JSON.stringify({ email: memory.email, password: PASSWORD });
    const loginRuns = [];
    const bcryptRuns = [];
    for (let round = 0; round < RUNS; round++) {
      const l = await cannon(`${memory.url}/auth/login`, {
        connections: LOGIN_CONNECTIONS,
        method: 'POST',
        body: loginBody,
        headers: { 'content-type': 'application/json' },
      });
      loginRuns.push(l);
      const raw = start('bcrypt-raw', process.execPath, [join(ROOT, 'bench/lib/bcrypt-raw.js'), BCRYPT_COST, SECONDS, LOGIN_CONNECTIONS]);
      const b = await firstLine(raw, (v) => v.ops_per_sec, 120_000);
      await once(raw, 'exit').catch(() => undefined);
      bcryptRuns.push(b);
      log(`round ${round + 1}/${RUNS} logins     ${l.rps.toFixed(1)}/s (errors ${l.errors} non2xx ${l.non2xx})  raw bcrypt ${b.toFixed(1)}/s`);
    }
    const logins = median(loginRuns.map((r) => r.rps));
    results.scenarios.logins = {
      label: `POST /auth/login, ${LOGIN_CONNECTIONS} connections, bcrypt cost ${BCRYPT_COST}`,
      rps: Number(logins.toFixed(1)),
      p99_ms: loginRuns[0].p99,
      errors: loginRuns.reduce((n, r) => n + r.errors, 0),
      non2xx: loginRuns.reduce((n, r) => n + r.non2xx, 0),
      runs: loginRuns.map((r) => Number(r.rps.toFixed(1))),
    };
    results.scenarios.bcrypt = {
      label: `raw bcrypt.compare, ${LOGIN_CONNECTIONS} in flight, cost ${BCRYPT_COST}`,
      rps: Number(median(bcryptRuns).toFixed(1)),
      errors: 0,
      non2xx: 0,
      runs: bcryptRuns.map((x) => Number(x.toFixed(1))),
    };
  }

  // 9. p99 at a fixed rate (about half of the full pipeline's max), calm vs during a login storm.
  if (wanted('storm')) {
    const rate = Math.max(100, Math.round((results.scenarios.full?.rps ?? 2000) / 2));
    const loginBody = JSON.stringify({ email: memory.email, password: PASSWORD });
    const calm = [];
    const storm = [];
    for (let round = 0; round < RUNS; round++) {
      calm.push(await cannon(`${memory.url}${path}`, { headers: auth(memory.token), rate }));
      const storming = cannon(`${memory.url}/auth/login`, {
        connections: LOGIN_CONNECTIONS,
        seconds: SECONDS + (QUICK ? 1 : 2),
        method: 'POST',
        body: loginBody,
        headers: { 'content-type': 'application/json' },
      });
      await new Promise((r) => setTimeout(r, QUICK ? 300 : 1000)); // let the storm saturate the bcrypt pool first
      storm.push(await cannon(`${memory.url}${path}`, { headers: auth(memory.token), rate }));
      const s = await storming;
      storm[storm.length - 1].loginRps = s.rps;
      storm[storm.length - 1].loginErrors = s.errors + s.non2xx;
      log(`round ${round + 1}/${RUNS} p99 @${rate}/s calm ${calm.at(-1).p99} ms, storm ${storm.at(-1).p99} ms (${s.rps.toFixed(1)} logins/s)`);
    }
    const pick = (runs) => runs.find((r) => r.p99 === median(runs.map((x) => x.p99))) ?? runs[0];
    const c = pick(calm);
    const s = pick(storm);
    results.scenarios.p99_calm = { label: `full pipeline at ${rate} req/s`, rps: Math.round(c.rps), p50_ms: c.p50, p99_ms: median(calm.map((r) => r.p99)), errors: calm.reduce((n, r) => n + r.errors, 0), non2xx: calm.reduce((n, r) => n + r.non2xx, 0), runs: calm.map((r) => r.p99) };
    results.scenarios.p99_storm = {
      label: `full pipeline at ${rate} req/s during a login storm (${LOGIN_CONNECTIONS} connections)`,
      rps: Math.round(s.rps),
      p50_ms: s.p50,
      p99_ms: median(storm.map((r) => r.p99)),
      logins_per_sec: Number(median(storm.map((r) => r.loginRps)).toFixed(1)),
      errors: storm.reduce((n, r) => n + r.errors + r.loginErrors, 0),
      non2xx: storm.reduce((n, r) => n + r.non2xx, 0),
      runs: storm.map((r) => r.p99),
    };
  }

  // 10. RSS of an authgate process with N idle keep-alive connections (each served one request first):
  // a freshly started instance (what the connections cost) and the instance that just ran every load above
  // (its V8 heap grown by the load: reported alongside).
  if (wanted('rss')) {
    const fresh = await startAuthgate('idle', upstreamUrl, { routes: 10 });
    results.scenarios.rss = await idleRss(fresh, `authgate RSS with ${IDLE_CONNECTIONS} idle keep-alive connections (fresh process)`);
    await stop(fresh.child);
    results.scenarios.rss_after_load = await idleRss(memory, `authgate RSS with ${IDLE_CONNECTIONS} idle keep-alive connections (after the load above)`);
  }

  for (const a of [memory, redis, big]) if (a) results.notes.push(`${a.child.name}: ${a.child.logLines} log lines during the run`);

  await stop(memory.child, 'SIGTERM', 20_000); // graceful, so --cpu-prof writes its profile
  if (redis) {
    await stop(redis.child);
    await cleanRedis(`authgate-bench-${process.pid}-`).catch((err) => results.notes.push(`redis cleanup failed: ${err.message}`));
  }
  if (big) await stop(big.child);
  if (nginx) await stop(nginx.child, 'SIGQUIT');
}

async function idleRss(instance, label) {
  const before = rssMb(instance.pid);
  const { port } = new URL(instance.url);
  const idle = start('idle-connections', process.execPath, [join(ROOT, 'bench/lib/idle-connections.js'), '127.0.0.1', port, IDLE_CONNECTIONS, '/health']);
  const opened = await firstLine(idle, (v) => (v.open !== undefined ? v : undefined), 120_000);
  await new Promise((r) => setTimeout(r, QUICK ? 300 : 1500)); // let allocation settle
  const during = rssMb(instance.pid);
  idle.stdin.write('count\n');
  const still = await firstLine(idle, (v) => (v.open !== undefined ? v.open : undefined));
  idle.stdin.write('close\n');
  await once(idle, 'exit');
  children.splice(children.indexOf(idle), 1);
  return {
    label,
    rps: opened.open, // connections open (non-zero = the scenario ran)
    rss_before_mb: Number(before.toFixed(1)),
    rss_mb: Number(during.toFixed(1)),
    kb_per_connection: Number((((during - before) * 1024) / Math.max(1, opened.open)).toFixed(1)),
    open: opened.open,
    still_open_after_sample: still,
    errors: opened.failed + (opened.open - still),
    non2xx: 0,
  };
}

function ratio(a, b) {
  return a === undefined || b === undefined || !b ? null : Number((a / b).toFixed(2));
}

function report() {
  const s = results.scenarios;
  const r = results.ratios;
  // Each round yields its own ratios (both figures measured minutes apart at most, under the same load);
  // the reported ratio is the median of the per-round ratios. Ratios of the medians are kept in the JSON.
  const pairs = {
    'full/bare': ['full', 'bare'],
    'full/nginx': ['full', 'nginx'],
    'public/bare': ['public', 'bare'],
    'bare/direct': ['bare', 'direct'],
    'redis/memory': ['redis', 'full'],
    'routes10k/routes10': ['routes10k', 'routes10'],
    'logins/bcrypt': ['logins', 'bcrypt'],
    'p99 storm/calm': ['p99_storm', 'p99_calm'],
  };
  results.ratios_of_medians = {};
  for (const [name, [a, b]] of Object.entries(pairs)) {
    const x = s[a];
    const y = s[b];
    if (!x || !y) continue;
    const field = a.startsWith('p99') ? 'p99_ms' : 'rps';
    results.ratios_of_medians[name] = ratio(x[field], y[field]);
    const perRound = x.runs.map((v, i) => (y.runs[i] ? v / y.runs[i] : NaN)).filter((v) => Number.isFinite(v));
    r[name] = perRound.length === 0 ? null : Number(median(perRound).toFixed(2));
    (results.ratios_per_round ??= {})[name] = perRound.map((v) => Number(v.toFixed(2)));
  }
  if (s.rss) r.rss10k_mb = s.rss.rss_mb;
  if (s.rss_after_load) r.rss10k_after_load_mb = s.rss_after_load.rss_mb;
  // Proxy CPU per request: the same comparison without the load generator and neighbours in the figure.
  r['cpu/req full/bare'] = ratio(s.full?.proxy_cpu_us_per_req, s.bare?.proxy_cpu_us_per_req);
  r['cpu/req full/nginx'] = ratio(s.full?.proxy_cpu_us_per_req, s.nginx?.proxy_cpu_us_per_req);
  const targets = {
    'full/bare': ['>=', 0.9],
    'full/nginx': ['>=', 0.5],
    'redis/memory': ['>=', 0.8],
    'routes10k/routes10': ['>=', 0.95],
    'logins/bcrypt': ['>=', 0.9],
    'p99 storm/calm': ['<=', 2],
    rss10k_mb: ['<=', 200],
  };
  results.targets = {};
  for (const [k, [op, v]] of Object.entries(targets)) {
    if (r[k] === null || r[k] === undefined) continue;
    results.targets[k] = { target: `${op} ${v}`, met: op === '>=' ? r[k] >= v : r[k] <= v };
  }
  results.database = pgAvailable ? 'postgres' : 'sqlite';
  results.load_average_after = loadavg().map((x) => Number(x.toFixed(2)));

  const pad = (x, n) => String(x).padEnd(n);
  const lines = [
    `authgate bench: node ${process.version}, ${results.cpus} cpus, ${RUNS} run(s) x ${SECONDS}s, ${CONNECTIONS} connections, ${results.database}, load ${results.load_average_before.join(' ')}`,
    `${pad('scenario', 12)}${pad('req/s', 10)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('errors', 8)}${pad('µs CPU/req', 12)}what`,
  ];
  for (const [key, v] of Object.entries(s)) {
    if (key.startsWith('rss')) {
      lines.push(`${pad(key.slice(0, 11), 12)}${pad(`${v.rss_mb} MB`, 10)}${pad('', 8)}${pad('', 8)}${pad(v.errors, 8)}${pad('', 12)}${v.label} (before: ${v.rss_before_mb} MB, ${v.kb_per_connection} KB/connection, ${v.open} open)`);
      continue;
    }
    const cpu = v.proxy_cpu_us_per_req == null ? '' : `${Math.round(v.proxy_cpu_us_per_req)}${v.redis_server_cpu_us_per_req == null ? '' : `+${Math.round(v.redis_server_cpu_us_per_req)}r`}`;
    lines.push(`${pad(key, 12)}${pad(v.rps, 10)}${pad(v.p50_ms ?? '', 8)}${pad(v.p99_ms ?? '', 8)}${pad(v.errors + v.non2xx, 8)}${pad(cpu, 12)}${v.label}${v.runs && v.runs.length > 1 ? ` [${v.runs.join(', ')}]` : ''}`);
  }
  lines.push(`ratios (median of the ${RUNS} per-round ratio${RUNS === 1 ? '' : 's'}; per-round values and ratios of the medians in the JSON):`);
  for (const [k, v] of Object.entries(r)) {
    if (v === null || v === undefined) continue;
    const t = results.targets[k];
    const n = IDLE_CONNECTIONS >= 1000 ? `${IDLE_CONNECTIONS / 1000}k` : IDLE_CONNECTIONS;
    const text = k === 'rss10k_mb' ? `rss${n} = ${v} MB` : k === 'rss10k_after_load_mb' ? `rss${n} after load = ${v} MB` : `${k} = ${v.toFixed(2)}`;
    lines.push(`${text}${t ? `   (target ${t.target}: ${t.met ? 'met' : 'NOT met'})` : ''}`);
  }
  for (const n of results.notes) lines.push(`note: ${n}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`wrote ${OUT}\n`);
}

async function cleanup() {
  await Promise.all(children.map((c) => stop(c, 'SIGTERM', 5000).catch(() => undefined)));
  for (const db of pgDatabases) await pgQuery(`drop database if exists ${db} with (force)`).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}

process.on('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});

try {
  await main();
  report();
} catch (err) {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
