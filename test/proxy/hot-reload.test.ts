// policies.yaml hot reload: an edited file takes effect without a restart (fs.watch on the directory,
// including an atomic rename like a ConfigMap swap); an invalid edit is refused and the old policy stays;
// an invalid file at start is a ConfigError (exit 78 in `authgate serve`).
import t from 'tap';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../../config/load-config.js';
import { loadInitialPolicy } from '../../proxy/policy-store.js';
import { startTestApp, http } from '../helpers/app.js';

const policy = (upstream: string, publicPath: string) => `
version: 1
upstreams: { app: ${upstream} }
routes:
  - { name: open, match: { path: "${publicPath}" }, upstream: app, access: public }
`;

async function eventually(fn: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await fn()) return true;
    await sleep(50);
  }
  return false;
}

t.test('hot reload', async (t) => {
  let upstreamUrl = '';
  const app = await startTestApp({
    policy: (u) => {
      upstreamUrl = u;
      return policy(u, '/one');
    },
  });
  t.teardown(() => app.close());
  t.equal((await http(app.url, 'GET', '/one')).status, 200);
  t.equal((await http(app.url, 'GET', '/two')).status, 403);

  writeFileSync(app.policyFile, policy(upstreamUrl, '/two'));
  t.ok(await eventually(async () => (await http(app.url, 'GET', '/two')).status === 200), 'edited rule applies');
  t.equal((await http(app.url, 'GET', '/one')).status, 403, 'old rule gone');

  // atomic replace (editors, Kubernetes ConfigMap symlink swap): a new inode under the same name
  const tmp = join(app.dir, '.policies.tmp');
  writeFileSync(tmp, policy(upstreamUrl, '/three'));
  renameSync(tmp, app.policyFile);
  t.ok(await eventually(async () => (await http(app.url, 'GET', '/three')).status === 200), 'renamed-in file applies');

  // invalid edit: refused, old policy stays, failure counted
  writeFileSync(app.policyFile, 'version: 1\nroutes:\n  - { name: broken, match: { path: "/x/**/y" }, upstream: nowhere }\n');
  t.ok(
    await eventually(async () => /authgate_policy_reloads_total\{result="failure"\} [1-9]/.test((await http(app.url, 'GET', '/metrics')).text)),
    'failed reload counted',
  );
  t.equal((await http(app.url, 'GET', '/three')).status, 200, 'old policy still in force');
  const manual = await app.app.context.policies.reload('test');
  t.equal(manual.ok, false);

  // a fixed file is picked up again
  writeFileSync(app.policyFile, policy(upstreamUrl, '/four'));
  t.ok(await eventually(async () => (await http(app.url, 'GET', '/four')).status === 200));
  t.match((await http(app.url, 'GET', '/metrics')).text, /authgate_policy_reloads_total\{result="success"\} [1-9]/);
});

t.test('an invalid policies.yaml at start is a ConfigError', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-policy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'policies.yaml');
  writeFileSync(file, 'version: 2\nroutes:\n  - { name: a, match: { path: "/a" }, upstream: nowhere }\n');
  const err = await loadInitialPolicy(file).catch((e: unknown) => e);
  t.type(err, ConfigError);
  t.ok((err as ConfigError).problems.length >= 2, 'every problem reported');
  t.ok((err as ConfigError).problems.every((p) => p.startsWith('policies: ')));
  await t.rejects(loadInitialPolicy(join(dir, 'missing.yaml')), ConfigError);
});
