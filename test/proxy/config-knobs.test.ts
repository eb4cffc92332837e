// Proxy configuration knobs: server.access_log writes one line per proxied request (off by default),
// tokens.upstream_token_ttl sets the X-Auth-Token lifetime, tokens.token_cache_size 0 disables the cache.
import t from 'tap';
import { Writable } from 'node:stream';
import { createLogger } from '../../core/logger.js';
import { DEFAULT_TEST_POLICY, http, loginWithRoles, startTestApp } from '../helpers/app.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

const tokenPolicy = (upstream: string) =>
  DEFAULT_TEST_POLICY(upstream).replace(
    '  - name: api\n',
    '  - name: signed\n    match: { path: "/signed/**" }\n    upstream: app\n    access: authenticated\n    headers: { token: true }\n  - name: api\n',
  );

t.test('access log on: one line per proxied request with status and route', async (t) => {
  const { lines, logger } = capture();
  const app = await startTestApp({ logger, config: { server: { access_log: true }, log: { level: 'info' } } });
  t.teardown(() => app.close());
  const res = await http(app.url, 'GET', '/health?x=1');
  t.equal(res.status, 200);
  const entry = lines.find((l) => l.msg === 'proxied');
  t.ok(entry, 'a proxied line');
  t.match(entry, { route: 'health', method: 'GET', path: '/health', status: 200 });
  t.type(entry?.ms, 'number');
});

t.test('access log off by default', async (t) => {
  const { lines, logger } = capture();
  const app = await startTestApp({ logger, config: { log: { level: 'info' } } });
  t.teardown(() => app.close());
  t.equal((await http(app.url, 'GET', '/health')).status, 200);
  t.notOk(lines.some((l) => l.msg === 'proxied'));
});

t.test('upstream token lifetime and a disabled token cache', async (t) => {
  const app = await startTestApp({ policy: tokenPolicy, config: { tokens: { upstream_token_ttl: '17s', token_cache_size: 0 } } });
  t.teardown(() => app.close());
  const user = await loginWithRoles(app, ['viewer']);
  for (let i = 0; i < 2; i++) t.equal((await http(app.url, 'GET', '/signed/x', { token: user.access })).status, 200);
  const received = app.upstream.received.at(-1)!;
  const token = String(received.headers['x-auth-token']);
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
  t.equal(claims.exp - claims.iat, 17, 'X-Auth-Token lives tokens.upstream_token_ttl');
  const metrics = await http(app.url, 'GET', '/metrics');
  t.notMatch(metrics.text, /authgate_token_cache_total\{result="hit"\} [1-9]/, 'no cache hits with size 0');
});
