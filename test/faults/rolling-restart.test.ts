// Fault: a rolling restart. The real binary (`node bin/authgate.js serve`) gets SIGTERM while 200
// authenticated proxied requests are in flight (the upstream holds each ~500 ms): every one completes with
// the upstream's answer, new connections are refused, and the process exits 0 within the drain timeout.
// Needs dist/ built (`npm test` builds first; alone: `npx tsc -p tsconfig.build.json`).
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { DEFAULT_TEST_POLICY, registerAndLogin } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { freePort, waitFor } from './fault-harness.js';

const root = new URL('../../', import.meta.url).pathname;
const IN_FLIGHT = 200;
const DRAIN_SECONDS = 10;

t.test('SIGTERM with 200 requests in flight: all complete, exit 0', { skip: existsSync(join(root, 'dist/proxy/main.js')) ? false : 'dist/ not built' }, async (t) => {
  let arrived = 0;
  const upstream = createServer((req, res) => {
    arrived += 1;
    req.resume();
    setTimeout(() => res.end(`done ${req.url} for ${String(req.headers['x-auth-user-id'])}`), 500);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    upstream.closeAllConnections();
    upstream.close(() => r());
  }));
  const dir = mkdtempSync(join(tmpdir(), 'authgate-rolling-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = await createTestDatabase('rolling');
  t.teardown(() => db.drop());
  const policyFile = join(dir, 'policies.yaml');
  writeFileSync(policyFile, DEFAULT_TEST_POLICY(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`));
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'bin/authgate.js'), 'serve'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      POLICIES_FILE: policyFile,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: 'http://authgate.test',
      LOG_LEVEL: 'warn',
      BCRYPT_COST: '4',
      AUTHGATE_MAIL_OUTBOX_DIR: join(dir, 'outbox'),
      AUTHGATE_SERVER_DRAIN_TIMEOUT: `${DRAIN_SECONDS}s`,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('authgate to listen', async () => {
    if (child.exitCode !== null) throw new Error(`authgate exited early: ${stderr}`);
    const res = await request(`${url}/healthz`);
    await res.body.dump();
    return res.statusCode === 200;
  }, 30_000);
  const user = await registerAndLogin(url);

  const agent = new Agent({ connections: IN_FLIGHT });
  t.teardown(() => agent.destroy());
  const inflight = Array.from({ length: IN_FLIGHT }, (_, i) =>
    request(`${url}/api/roll/${i}`, { dispatcher: agent, headers: { authorization: `Bearer ${user.access}` } }).then(
      async (res) => ({ status: res.statusCode, body: await res.body.text() }),
      (err: Error) => ({ status: 0, body: err.message }),
    ),
  );
  await waitFor(`all ${IN_FLIGHT} requests to reach the upstream`, () => arrived >= IN_FLIGHT, 30_000, 5);
  // The bound on shutdown: if authgate has not exited DRAIN_SECONDS + 5 s after SIGTERM it is killed, and
  // the exit-code assertion below fails (exit by signal, not code 0).
  child.kill('SIGTERM');
  const termAt = Date.now();
  const killer = setTimeout(() => child.kill('SIGKILL'), (DRAIN_SECONDS + 5) * 1000);
  t.teardown(() => clearTimeout(killer));

  // Shortly after SIGTERM the listener is closed: a new connection is refused (bounded wait).
  await waitFor('new connections to be refused', async () => {
    try {
      const res = await request(`${url}/healthz`, { dispatcher: new Agent({ connections: 1 }) });
      await res.body.dump();
      return false;
    } catch (err) {
      return /ECONNREFUSED|other side closed|ECONNRESET/.test(String((err as Error & { code?: string }).code ?? (err as Error).message));
    }
  }, 10_000, 20);

  const results = await Promise.all(inflight);
  const completedMs = Date.now() - termAt;
  const ok = results.filter((r, i) => r.status === 200 && r.body === `done /api/roll/${i} for ${user.userId}`).length;
  t.equal(ok, IN_FLIGHT, `every in-flight request completed with the upstream's answer (${ok}/${IN_FLIGHT}); others: ${JSON.stringify(results.filter((r) => r.status !== 200).slice(0, 3))}`);
  const exit = await exited;
  t.comment(`SIGTERM → last in-flight response ${completedMs} ms, → exit ${Date.now() - termAt} ms (drain timeout ${DRAIN_SECONDS} s)`);
  t.same(exit, { code: 0, signal: null }, `exit code 0 within the drain timeout (stderr: ${stderr.slice(-500)})`);
});
