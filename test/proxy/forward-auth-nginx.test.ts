// Forward-auth with a real nginx (Debian's build has auth_request): nginx asks authgate's /auth/verify for
// every request and forwards allowed ones, with the identity headers authgate answered, to a backend.
// Skipped only when /usr/sbin/nginx is missing (CI installs the `nginx` apt package).
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestApp, loginWithRoles, http } from '../helpers/app.js';
import { freePort } from '../helpers/processes.js';

const NGINX = '/usr/sbin/nginx';


t.test('nginx auth_request → /auth/verify', { skip: existsSync(NGINX) ? false : `${NGINX} not installed` }, async (t) => {
  const app = await startTestApp();
  t.teardown(() => app.close());
  const dir = mkdtempSync(join(tmpdir(), 'authgate-nginx-'));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const identity = ['user_id', 'email', 'roles', 'permissions', 'tenant', 'session_id'];
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = /_authgate {
      internal;
      proxy_pass ${app.url}/auth/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-Host $host;
    }
    location / {
      auth_request /_authgate;
${identity.map((h) => `      auth_request_set $authgate_${h} $upstream_http_x_auth_${h};\n      proxy_set_header X-Auth-${h.replace('_', '-')} $authgate_${h};`).join('\n')}
      proxy_pass ${app.upstream.url};
    }
  }
}
`;
  const confFile = join(dir, 'nginx.conf');
  writeFileSync(confFile, conf);
  const nginx: ChildProcess = spawn(NGINX, ['-c', confFile, '-p', dir, '-e', 'stderr', '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr;`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  nginx.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((r) => nginx.once('exit', () => r()));
  t.teardown(async () => {
    nginx.kill('SIGQUIT');
    await Promise.race([exited, sleep(3000).then(() => nginx.kill('SIGKILL'))]);
  });
  const base = `http://127.0.0.1:${port}`;
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    up = await http(base, 'GET', '/health').then(
      () => true,
      () => false,
    );
    if (!up) await sleep(50);
  }
  t.ok(up, `nginx started (${stderr.slice(0, 300)})`);

  const viewer = await loginWithRoles(app, ['viewer']);

  const pub = await http(base, 'GET', '/public/a', { headers: { 'x-auth-user-id': 'spoofed' } });
  t.equal(pub.status, 200, 'public route allowed');
  t.notOk(pub.body.headers['x-auth-user-id'], 'a spoofed identity header is replaced by the (empty) answer');

  const before = app.upstream.received.length;
  const anon = await http(base, 'GET', '/api/orders/1');
  t.equal(anon.status, 401, 'anonymous → 401 from nginx');
  const denied = await http(base, 'POST', '/api/orders/1', { token: viewer.access, body: 'x' });
  t.equal(denied.status, 403, 'policy denial → 403 from nginx');
  const traversal = await http(base, 'GET', '/public/%2e%2e/admin-ui/x', { token: viewer.access });
  t.equal(traversal.status, 403, 'the normalised path is decided');
  t.equal(app.upstream.received.length, before, 'no denied request reached the backend');

  const ok = await http(base, 'GET', '/api/orders/1?x=1', { token: viewer.access, headers: { 'x-auth-roles': 'admin' } });
  t.equal(ok.status, 200, 'viewer allowed');
  t.equal(ok.body.headers['x-auth-user-id'], viewer.userId);
  t.equal(ok.body.headers['x-auth-roles'], 'viewer', 'identity from authgate, not the client');
  t.equal(ok.body.headers['x-auth-email'], viewer.email);
  t.equal(ok.body.headers['x-auth-tenant'], 'default');
  t.ok(ok.body.headers['x-auth-session-id']);

  // the endpoint directly
  const direct = await http(app.url, 'GET', '/auth/verify', { token: viewer.access, headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/api/orders/9' } });
  t.equal(direct.status, 200, 'Traefik-style headers');
  t.equal(direct.headers['x-auth-user-id'], viewer.userId);
  const missing = await http(app.url, 'GET', '/auth/verify', { token: viewer.access });
  t.equal(missing.status, 403, 'no original URI: refused (nginx understands only 401/403)');
  t.equal(missing.body.code, 'ERR_FORWARD_AUTH_HEADERS');
});
