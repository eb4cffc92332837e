// Bounded soak: a real `authgate serve` child under mixed traffic (proxied calls, /auth/me, logins,
// refreshes, registrations, logouts with the revoked token retried) for SOAK_SECONDS (default 600). Every few
// seconds it samples the child's RSS, heap, event-loop delay (perf_hooks monitorEventLoopDelay, read through
// prom-client's authgate_nodejs_eventloop_lag_* on /metrics), active handles and open fds (/proc).
// Fails on any 5xx or transport error, or on growth: after warm-up, last-quarter mean > first-quarter mean
// × 1.5 (plus a small absolute slack) for RSS, heap, handles or fds, or event-loop p99 tripling.
//   npm run soak                      (10 minutes)
//   SOAK_SECONDS=60 npm run soak      (the CI variant; test/reliability/soak-short.test.ts runs the same code)
// Needs dist/ built. Uses TEST_DATABASE_URL (PostgreSQL) when set, else a temp SQLite file. 127.0.0.1 only.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { startEchoUpstream } from '../proxy/demo/demo-upstream.js';
import { DEFAULT_TEST_POLICY } from '../test/helpers/app.js';
import { createTestDatabase } from '../test/helpers/db.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PASSWORD = 'correct horse battery staple';

export interface SoakOptions {
  seconds: number;
  /** Concurrent virtual clients. */
  concurrency?: number;
  /** Sampling period (default: seconds/30, between 2 and 10 s). */
  sampleMs?: number;
  log?: (line: string) => void;
}

export interface SoakSample {
  t: number;
  rssMb: number;
  heapMb: number;
  eldP99Ms: number;
  eldMeanMs: number;
  handles: number;
  fds: number;
  requests: number;
}

export interface SoakResult {
  samples: SoakSample[];
  requests: number;
  byOp: Record<string, number>;
  statusCounts: Record<string, number>;
  unexpected: string[];
  failures: string[];
  table: string;
}

interface Metrics {
  [name: string]: number;
}

function parseMetrics(text: string): Metrics {
  const out: Metrics = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-\d.eE+]+|NaN)$/.exec(line);
    if (m && m[2] === undefined) out[m[1]!] = Number(m[3]);
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolvePort(port));
    });
  });
}

const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Least-squares slope of ys over xs (units of y per unit of x). */
function slope(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? ((l: string) => console.log(l));
  const seconds = options.seconds;
  const concurrency = options.concurrency ?? 8;
  const sampleMs = options.sampleMs ?? Math.min(10_000, Math.max(2000, Math.floor((seconds * 1000) / 30)));
  const upstream = await startEchoUpstream();
  const db = await createTestDatabase('soak');
  const dir = mkdtempSync(join(tmpdir(), 'authgate-soak-'));
  const policyFile = join(dir, 'policies.yaml');
  writeFileSync(policyFile, DEFAULT_TEST_POLICY(upstream.url));
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bin/authgate.js'), 'serve'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      POLICIES_FILE: policyFile,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: 'http://authgate.test',
      LOG_LEVEL: 'warn',
      BCRYPT_COST: process.env.SOAK_BCRYPT_COST ?? '4',
      AUTHGATE_MAIL_OUTBOX_DIR: join(dir, 'outbox'),
      // The soak measures leaks, not the limiter: one client IP sends everything.
      AUTHGATE_SECURITY_RATE_LIMIT_IP_POINTS: '0',
      AUTHGATE_SECURITY_RATE_LIMIT_AUTH_POINTS: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const agent = new Agent({ connections: concurrency * 2 });
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`authgate exited early (${child.exitCode}): ${stderr}`);
      if (i > 600) throw new Error('authgate did not become healthy');
      const up = await request(`${url}/healthz`).then(
        async (r) => (await r.body.dump(), r.statusCode === 200),
        () => false,
      );
      if (up) break;
      await sleep(50);
    }
    const pid = child.pid!;

    const statusCounts: Record<string, number> = {};
    const byOp: Record<string, number> = {};
    const unexpected: string[] = [];
    const failures: string[] = [];
    let requests = 0;

    async function call(op: string, method: string, path: string, expect: number[], opts: { json?: unknown; token?: string } = {}) {
      requests += 1;
      byOp[op] = (byOp[op] ?? 0) + 1;
      const headers: Record<string, string> = {};
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(opts.json);
      }
      try {
        const res = await request(`${url}${path}`, { method: method as 'GET', headers, body, dispatcher: agent });
        const text = await res.body.text();
        const key = `${op} ${res.statusCode}`;
        statusCounts[key] = (statusCounts[key] ?? 0) + 1;
        if (res.statusCode >= 500) failures.push(`${op} ${method} ${path} → ${res.statusCode} ${text.slice(0, 200)}`);
        else if (!expect.includes(res.statusCode) && unexpected.length < 50) unexpected.push(`${op} → ${res.statusCode} ${text.slice(0, 120)}`);
        return { status: res.statusCode, json: text && /json/.test(String(res.headers['content-type'])) ? JSON.parse(text) : undefined };
      } catch (err) {
        if (failures.length < 50) failures.push(`${op} ${method} ${path} → transport error ${(err as Error).message}`);
        return { status: 0, json: undefined };
      }
    }

    let userCounter = 0;
    async function newUser() {
      userCounter += 1;
      const email = `soak${userCounter}.${Date.now().toString(36)}@example.com`;
      await call('register', 'POST', '/auth/register', [201], { json: { email, username: `soak${userCounter}`, password: PASSWORD } });
      const login = await call('login', 'POST', '/auth/login', [200], { json: { email, password: PASSWORD } });
      return { email, access: login.json?.access_token as string, refresh: login.json?.refresh_token as string };
    }

    const deadline = Date.now() + seconds * 1000;
    async function worker(n: number) {
      let u = await newUser();
      let i = 0;
      while (Date.now() < deadline) {
        i += 1;
        const r = Math.random();
        if (!u.access) u = await newUser();
        else if (r < 0.55) await call('proxy', 'GET', `/api/soak/${n}/${i}?x=${i}`, [200], { token: u.access });
        else if (r < 0.62) await call('proxy-post', 'POST', `/api/orders/${i}`, [403], { token: u.access, json: { n: i } });
        else if (r < 0.7) await call('me', 'GET', '/auth/me', [200], { token: u.access });
        else if (r < 0.84) {
          const res = await call('refresh', 'POST', '/auth/refresh', [200], { json: { refresh_token: u.refresh } });
          if (res.status === 200) u = { ...u, access: res.json.access_token, refresh: res.json.refresh_token };
        } else if (r < 0.91) {
          const res = await call('login', 'POST', '/auth/login', [200], { json: { email: u.email, password: PASSWORD } });
          if (res.status === 200) u = { ...u, access: res.json.access_token, refresh: res.json.refresh_token };
        } else if (r < 0.97) {
          // Revocation: log out, then the still-unexpired access token must be refused by the proxy.
          await call('logout', 'POST', '/auth/logout', [204], { token: u.access });
          await call('revoked-token', 'GET', `/api/soak/${n}/revoked`, [401], { token: u.access });
          const res = await call('login', 'POST', '/auth/login', [200], { json: { email: u.email, password: PASSWORD } });
          u = { ...u, access: res.json?.access_token, refresh: res.json?.refresh_token };
        } else u = await newUser();
      }
    }

    const samples: SoakSample[] = [];
    const started = Date.now();
    async function sample() {
      try {
        const res = await request(`${url}/metrics`, { dispatcher: agent });
        const m = parseMetrics(await res.body.text());
        let fds = -1;
        try {
          fds = readdirSync(`/proc/${pid}/fd`).length;
        } catch {
          // no /proc
        }
        samples.push({
          t: Math.round((Date.now() - started) / 1000),
          rssMb: (m.authgate_process_resident_memory_bytes ?? 0) / 1048576,
          heapMb: (m.authgate_nodejs_heap_size_used_bytes ?? 0) / 1048576,
          eldP99Ms: (m.authgate_nodejs_eventloop_lag_p99_seconds ?? 0) * 1000,
          eldMeanMs: (m.authgate_nodejs_eventloop_lag_mean_seconds ?? 0) * 1000,
          handles: m.authgate_nodejs_active_handles_total ?? 0,
          fds,
          requests,
        });
      } catch (err) {
        failures.push(`sampling failed: ${(err as Error).message}`);
      }
    }
    await sample();
    const sampler = setInterval(() => void sample(), sampleMs);
    log(`soak: ${seconds} s, ${concurrency} clients, sampling every ${sampleMs} ms, authgate pid ${pid} at ${url}`);
    await Promise.all(Array.from({ length: concurrency }, (_, n) => worker(n)));
    clearInterval(sampler);
    if (child.exitCode !== null) failures.push(`authgate exited during the soak (${child.exitCode}): ${stderr}`);

    // Growth analysis over the samples after warm-up (first 20 %, at least 10 s).
    const warm = samples.filter((s) => s.t >= Math.max(10, seconds * 0.2));
    const q = Math.max(1, Math.floor(warm.length / 4));
    const first = warm.slice(0, q);
    const last = warm.slice(-q);
    const half = warm.slice(Math.floor(warm.length / 2));
    const checks: Array<[string, (s: SoakSample) => number, number, number]> = [
      // name, value, ratio, absolute slack
      ['rss MB', (s) => s.rssMb, 1.5, 16],
      ['heap MB', (s) => s.heapMb, 1.5, 8],
      ['handles', (s) => s.handles, 1.5, 10],
      ['fds', (s) => s.fds, 1.5, 10],
      ['event-loop p99 ms', (s) => s.eldP99Ms, 3, 20],
    ];
    const growth: string[] = [];
    if (warm.length >= 4) {
      for (const [name, f, ratio, slack] of checks) {
        const a = mean(first.map(f));
        const b = mean(last.map(f));
        const perMin = slope(half.map((s) => s.t / 60), half.map(f));
        growth.push(`${name.padEnd(18)} first-quarter ${a.toFixed(1).padStart(8)}  last-quarter ${b.toFixed(1).padStart(8)}  slope(2nd half) ${perMin.toFixed(2).padStart(7)}/min`);
        if (b > a * ratio + slack) failures.push(`${name} grew: first-quarter mean ${a.toFixed(1)}, last-quarter mean ${b.toFixed(1)} (> ×${ratio} + ${slack})`);
      }
    } else failures.push(`too few samples after warm-up (${warm.length}) to judge growth`);

    const rows = samples.map((s, i) => {
      const prev = samples[i - 1];
      const rps = prev ? ((s.requests - prev.requests) / Math.max(1, s.t - prev.t)).toFixed(0) : '-';
      return `${String(s.t).padStart(5)}  ${s.rssMb.toFixed(1).padStart(7)}  ${s.heapMb.toFixed(1).padStart(7)}  ${s.eldMeanMs.toFixed(1).padStart(6)}  ${s.eldP99Ms.toFixed(1).padStart(6)}  ${String(s.handles).padStart(7)}  ${String(s.fds).padStart(5)}  ${rps.padStart(6)}`;
    });
    const s0 = samples[0]!;
    const sN = samples.at(-1)!;
    const table = [
      '    t   rss MB  heap MB  eld ms  p99 ms  handles    fds   req/s',
      ...rows,
      '',
      `start → end: RSS ${s0.rssMb.toFixed(1)} → ${sN.rssMb.toFixed(1)} MB, heap ${s0.heapMb.toFixed(1)} → ${sN.heapMb.toFixed(1)} MB, event-loop p99 ${s0.eldP99Ms.toFixed(1)} → ${sN.eldP99Ms.toFixed(1)} ms, handles ${s0.handles} → ${sN.handles}, fds ${s0.fds} → ${sN.fds}`,
      ...growth,
      `requests ${requests} (${(requests / seconds).toFixed(0)}/s): ${Object.entries(byOp).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `statuses: ${Object.entries(statusCounts).sort().map(([k, v]) => `${k}×${v}`).join(', ')}`,
      `unexpected 4xx: ${unexpected.length}${unexpected.length ? ` e.g. ${unexpected[0]}` : ''}`,
      `failures: ${failures.length === 0 ? 'none' : failures.slice(0, 10).join(' | ')}`,
    ].join('\n');
    log(table);
    return { samples, requests, byOp, statusCounts, unexpected, failures, table };
  } finally {
    await agent.close().catch(() => undefined);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
    await upstream.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runSoak({ seconds: Number(process.env.SOAK_SECONDS ?? 600) });
  await sleep(0);
  process.exitCode = result.failures.length === 0 ? 0 : 1;
}
