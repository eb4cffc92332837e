// Configuration loading: defaults, SPEC §2 short env names, AUTHGATE_<SECTION>_<KEY>, YAML file,
// every problem reported at once naming its key, frozen result, exit 78 from the server command.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadConfig } from '../../config/load-config.js';
import { parseDuration } from '../../config/duration.js';

t.test('defaults match SPEC §2', async (t) => {
  const c = loadConfig({ env: {} });
  t.equal(c.server.port, 8080);
  t.equal(c.server.host, '0.0.0.0');
  t.equal(c.database.url, 'sqlite:./data/authgate.sqlite');
  t.equal(c.redis.url, undefined);
  t.equal(c.server.public_url, 'http://localhost:8080');
  t.equal(c.tokens.issuer, 'http://localhost:8080');
  t.equal(c.tokens.audience, 'authgate');
  t.equal(c.tokens.access_ttl, 15 * 60_000);
  t.equal(c.tokens.refresh_idle_ttl, 7 * 86_400_000);
  t.equal(c.tokens.session_max_age, 30 * 86_400_000);
  t.equal(c.security.bcrypt_cost, 12);
  t.equal(c.security.login_max_failures, 10);
  t.equal(c.security.lockout_duration, 15 * 60_000);
  t.equal(c.security.password_min_length, 12);
  t.equal(c.security.require_verified_email, false);
  t.same(c.server.trusted_proxies, []);
  t.equal(c.security.default_role, 'user');
  t.equal(c.log.level, 'info');
  t.equal(c.policies.file, './policies.yaml');
});

t.test('short environment names and AUTHGATE_ long names', async (t) => {
  const c = loadConfig({
    env: {
      PORT: '9000',
      DATABASE_URL: 'postgres://u@db/x',
      REDIS_URL: 'redis://r:6379',
      PUBLIC_URL: 'https://auth.example.com/',
      ACCESS_TOKEN_TTL: '600',
      REFRESH_IDLE_TTL: '2d',
      REQUIRE_VERIFIED_EMAIL: 'true',
      TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.1',
      AUTHGATE_MAIL_OUTBOX_DIR: '/data/outbox',
      AUTHGATE_SECURITY_BCRYPT_COST: '10',
    },
  });
  t.equal(c.server.port, 9000);
  t.equal(c.database.url, 'postgres://u@db/x');
  t.equal(c.redis.url, 'redis://r:6379');
  t.equal(c.server.public_url, 'https://auth.example.com', 'trailing slash removed');
  t.equal(c.tokens.issuer, 'https://auth.example.com', 'issuer defaults to PUBLIC_URL');
  t.equal(c.tokens.access_ttl, 600_000, 'bare numbers are seconds');
  t.equal(c.tokens.refresh_idle_ttl, 2 * 86_400_000);
  t.equal(c.security.require_verified_email, true);
  t.same(c.server.trusted_proxies, ['10.0.0.0/8', '192.168.1.1']);
  t.equal(c.mail.outbox_dir, '/data/outbox');
  t.equal(c.security.bcrypt_cost, 10);
});

t.test('file, then environment, then overrides', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-cfg-'));
  const file = join(dir, 'authgate.yaml');
  writeFileSync(file, 'server:\n  port: 7000\n  host: 127.0.0.1\nlog:\n  level: debug\n');
  const c = loadConfig({ file, env: { PORT: '7001' }, overrides: { log: { level: 'warn' } } });
  t.equal(c.server.port, 7001, 'env beats file');
  t.equal(c.server.host, '127.0.0.1', 'file value kept');
  t.equal(c.log.level, 'warn', 'override beats file');
  const viaEnv = loadConfig({ env: { AUTHGATE_CONFIG: file } });
  t.equal(viaEnv.server.port, 7000, 'AUTHGATE_CONFIG names the file');
});

t.test('every problem is reported at once, naming its key', async (t) => {
  const err = t.throws(() =>
    loadConfig({ env: { PORT: 'abc', BCRYPT_COST: '99', ACCESS_TOKEN_TTL: 'soon', DATABASE_URL: 'mysql://x', AUTHGATE_BOGUS_KEY: '1', LOG_LEVEL: 'loud' } }),
  ) as ConfigError;
  t.type(err, ConfigError);
  const text = err.problems.join('\n');
  for (const key of ['PORT', 'BCRYPT_COST', 'ACCESS_TOKEN_TTL', 'DATABASE_URL', 'AUTHGATE_BOGUS_KEY', 'LOG_LEVEL']) t.match(text, key, `names ${key}`);
  t.ok(err.problems.length >= 6);
});

t.test('unknown keys in the file are problems, not silently ignored', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-cfg-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'server:\n  prot: 1\nnonsense: {}\n');
  const err = t.throws(() => loadConfig({ file, env: {} })) as ConfigError;
  t.match(err.problems.join('\n'), /server\.prot: unknown configuration key/);
  t.match(err.problems.join('\n'), /nonsense: unknown configuration key/);
});

t.test('cross-field rule: idle TTL may not exceed the session max age', async (t) => {
  const err = t.throws(() => loadConfig({ env: { REFRESH_IDLE_TTL: '40d' } })) as ConfigError;
  t.match(err.problems.join('\n'), /REFRESH_IDLE_TTL/);
});

t.test('the result is deeply frozen', async (t) => {
  const c = loadConfig({ env: {} });
  t.ok(Object.isFrozen(c));
  t.ok(Object.isFrozen(c.server));
  t.ok(Object.isFrozen(c.server.trusted_proxies));
});

t.test('durations', async (t) => {
  const cases: Array<[string | number, number | undefined]> = [
    ['900', 900_000],
    [900, 900_000],
    ['15m', 900_000],
    ['7d', 604_800_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['soon', undefined],
    ['-1s', undefined],
    ['', undefined],
  ];
  for (const [input, expected] of cases) t.equal(parseDuration(input), expected, String(input));
});

t.test('authgate serve exits 78 with one line per problem', { skip: !existsDist() && 'dist not built' }, async (t) => {
  const res = spawnSync(process.execPath, ['bin/authgate.js', 'serve'], {
    env: { PATH: process.env.PATH ?? '', PORT: 'not-a-port', BCRYPT_COST: '2' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  t.equal(res.status, 78);
  const lines = res.stderr.trim().split('\n').filter((l) => l.startsWith('config:'));
  t.equal(lines.length, 2, res.stderr);
  t.match(res.stderr, /PORT/);
  t.match(res.stderr, /BCRYPT_COST/);
});

function existsDist(): boolean {
  try {
    return spawnSync('test', ['-f', 'dist/proxy/main.js']).status === 0;
  } catch {
    return false;
  }
}
