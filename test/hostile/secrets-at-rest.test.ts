// Secrets never at rest in clear: after register, login, refresh, a failed login, a bad bearer token and a
// password change, no table of the database and no log line (level debug) contains a password, an access
// token or a refresh token. Refresh tokens are stored as SHA-256 only (SPEC §4), logs are redacted by config.
import t from 'tap';
import { Writable } from 'node:stream';
import { createLogger } from '../../core/logger.js';
import { http, PASSWORD, registerAndLogin, startTestApp } from '../helpers/app.js';
import { sha256Hex } from '../../core/crypto/secrets.js';

t.test('no secret in the database or the logs', async (t) => {
  let logText = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  const app = await startTestApp({ logger: createLogger('debug', sink), config: { log: { level: 'debug' } } });
  t.teardown(() => app.close());
  const base = app.url;
  const u = await registerAndLogin(base);
  const refreshed = await http(base, 'POST', '/auth/refresh', { json: { refresh_token: u.refresh } });
  t.equal(refreshed.status, 200);
  const newPassword = 'another horse battery staple 2';
  await http(base, 'POST', '/auth/login', { json: { email: u.email, password: 'wrong horse battery staple' } });
  await http(base, 'GET', '/api/x', { token: `${u.access}tampered` });
  await http(base, 'GET', '/api/x', { token: refreshed.body.access_token });
  t.equal((await http(base, 'POST', '/auth/password/change', { token: refreshed.body.access_token, json: { current_password: PASSWORD, new_password: newPassword } })).status, 204);
  await http(base, 'POST', '/auth/refresh', { json: { refresh_token: u.refresh } }); // reuse of a spent token

  const secrets = [PASSWORD, newPassword, 'wrong horse battery staple', u.access, u.refresh, refreshed.body.access_token, refreshed.body.refresh_token];
  const { sequelize, dialect } = app.app.context.core.db;
  const tables = (
    (await sequelize.query(
      dialect === 'sqlite' ? "SELECT name AS t FROM sqlite_master WHERE type = 'table'" : "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'",
      { type: 'SELECT' },
    )) as Array<{ t: string }>
  ).map((r) => r.t);
  t.ok(tables.includes('sessions') || tables.some((x) => /session/.test(x)), `tables found: ${tables.join(', ')}`);
  let dump = '';
  for (const table of tables) dump += JSON.stringify(await sequelize.query(`SELECT * FROM "${table}"`, { type: 'SELECT' }));
  t.ok(dump.length > 1000, 'the dump has content');
  t.ok(dump.includes(sha256Hex(u.refresh)), 'refresh tokens are kept as their SHA-256 (the spent one is still recorded, for reuse detection)');
  t.ok(logText.split('\n').length > 10, 'log lines were captured');
  for (const s of secrets) {
    t.notOk(dump.includes(s), `database free of ${s.slice(0, 10)}…`);
    t.notOk(logText.includes(s), `logs free of ${s.slice(0, 10)}…`);
  }
});
