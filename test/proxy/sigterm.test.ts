// Graceful shutdown of the real binary: `node bin/authgate.js serve` with slow proxied requests in flight
// receives SIGTERM, stops accepting, lets every in-flight request finish, and exits 0.
// Needs dist/ built (`npm test` builds first; alone: `npx tsc -p tsconfig.build.json`).
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { createTestDatabase } from '../helpers/db.js';

const root = new URL('../../', import.meta.url).pathname;

t.test('SIGTERM drains in-flight proxied requests and exits 0', { skip: existsSync(join(root, 'dist/proxy/main.js')) ? false : 'dist/ not built' }, async (t) => {
  let arrived = 0;
  const slow = createServer((req, res) => {
    arrived += 1;
    req.resume();
    setTimeout(() => res.end(`done ${req.url}`), 1500);
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => slow.close(() => r())));
  const dir = mkdtempSync(join(tmpdir(), 'authgate-sigterm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = await createTestDatabase('sigterm');
  t.teardown(() => db.drop());
  const policyFile = join(dir, 'policies.yaml');
  writeFileSync(
    policyFile,
    `version: 1\nupstreams: { slow: http://127.0.0.1:${(slow.address() as AddressInfo).port} }\nroutes:\n  - { name: slow, match: { path: "/slow/**" }, upstream: slow, access: public }\n`,
  );
  const child = spawn(process.execPath, [join(root, 'bin/authgate.js'), 'serve'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      POLICIES_FILE: policyFile,
      PORT: '0',
      HOST: '127.0.0.1',
      PUBLIC_URL: 'http://authgate.test',
      LOG_LEVEL: 'info',
      BCRYPT_COST: '4',
      AUTHGATE_SERVER_DRAIN_TIMEOUT: '10s',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`authgate exited early (${code}): ${stderr}${stdout}`)));
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  const inflight = [1, 2, 3, 4, 5].map((i) => request(`${url}/slow/${i}`).then(async (res) => ({ status: res.statusCode, body: await res.body.text() })));
  while (arrived < 5) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGTERM');
  const results = await Promise.all(inflight);
  t.same(
    results.map((r) => r.status),
    [200, 200, 200, 200, 200],
    'every in-flight request completed',
  );
  t.same(
    results.map((r) => r.body),
    [1, 2, 3, 4, 5].map((i) => `done /slow/${i}`),
  );
  t.equal(await exited, 0, `exit code 0 (stderr: ${stderr.slice(0, 500)})`);
  t.match(stdout, /shutting down/);
});
