// Fault: PostgreSQL dies (pg_ctl stop -m immediate) while authgate serves, then comes back on the same port.
// Proxied requests with valid access tokens keep working (stateless verification, keys in memory); auth
// endpoints answer 503 problem+json with Retry-After; /readyz is 503; after the restart everything heals
// without restarting authgate, and no registration or session acknowledged before the stop is lost.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { http, PASSWORD, registerAndLogin, startTestApp, uniqueEmail, type TestApp } from '../helpers/app.js';
import { OwnPostgres, ownPostgresUnavailable, waitFor } from './fault-harness.js';

const skip = ownPostgresUnavailable() ?? false;

t.test('PostgreSQL stopped and restarted under a running authgate', { skip }, async (t) => {
  const pg = await OwnPostgres.create();
  t.teardown(() => pg.destroy());
  const databaseUrl = await pg.createDatabase(`authgate_${randomBytes(3).toString('hex')}`);
  const app: TestApp = await startTestApp({ databaseUrl });
  t.teardown(() => app.close());
  const base = app.url;

  // Acknowledged before the fault: registrations, sessions (refresh tokens), and a proxied call.
  const before = [] as Array<Awaited<ReturnType<typeof registerAndLogin>>>;
  for (let i = 0; i < 5; i++) before.push(await registerAndLogin(base));
  const first = before[0]!;
  t.equal((await http(base, 'GET', '/api/things', { token: first.access })).status, 200, 'proxied call before the fault');
  t.equal((await http(base, 'GET', '/readyz')).status, 200, 'ready before the fault');

  // Registrations racing the fault: whichever were acknowledged (201) must survive it.
  let acked = 0;
  const racing = Array.from({ length: 20 }, () => uniqueEmail('race'));
  const racingResults = Promise.all(
    racing.map((email, i) =>
      new Promise((r) => setTimeout(r, i * 15)).then(() =>
        http(base, 'POST', '/auth/register', { json: { email, username: `race${i}${randomBytes(2).toString('hex')}`, password: PASSWORD } }).then(
          (res) => {
            if (res.status === 201) acked += 1;
            return { email, status: res.status, code: res.body?.code as string | undefined };
          },
          (err: Error) => ({ email, status: 0, code: err.message }),
        ),
      ),
    ),
  );
  // Stop once the first racing registration was acknowledged, so the fault lands mid-stream.
  await waitFor('a racing registration to be acknowledged', () => acked > 0, 10_000, 2);
  await pg.stop('immediate');
  const raced = await racingResults;
  t.ok(
    raced.every((r) => r.status === 201 || r.status === 503),
    `racing registrations answered 201 or 503 only: ${JSON.stringify(raced.map((r) => `${r.status}${r.code ? ` ${r.code}` : ""}`))}`,
  );

  // ── while PostgreSQL is down ──
  const received = app.upstream.received.length;
  for (const u of before) {
    const res = await http(base, 'GET', `/api/orders-of/${u.userId}`, { token: u.access });
    t.equal(res.status, 200, 'proxied request with a valid token still served');
  }
  t.equal(app.upstream.received.length, received + before.length, 'and forwarded to the upstream');
  t.equal(app.upstream.received.at(-1)?.headers['x-auth-user-id'], before.at(-1)!.userId, 'with the verified identity');
  t.equal((await http(base, 'GET', '/api/x')).status, 401, 'a request without a token is still denied');

  const outage = [
    ['POST', '/auth/login', { email: first.email, password: PASSWORD }],
    ['POST', '/auth/register', { email: uniqueEmail('down'), username: 'downuser', password: PASSWORD }],
    ['POST', '/auth/refresh', { refresh_token: first.refresh }],
  ] as const;
  for (const [method, path, json] of outage) {
    const res = await http(base, method, path, { json });
    t.equal(res.status, 503, `${path} → 503 while the database is down`);
    t.equal(res.body?.code, 'ERR_UNAVAILABLE', `${path} code`);
    t.match(String(res.headers['content-type']), /application\/problem\+json/, `${path} is problem+json`);
    t.ok(Number(res.headers['retry-after']) > 0, `${path} has Retry-After`);
    t.notMatch(res.text, /ECONNREFUSED|sequelize|SELECT|INSERT|at .*\.js/i, `${path} leaks no internals`);
  }
  const me = await http(base, 'GET', '/auth/me', { token: first.access });
  t.equal(me.status, 503, '/auth/me (reads the user row) → 503');
  const ready = await http(base, 'GET', '/readyz');
  t.equal(ready.status, 503, '/readyz → 503');
  t.equal(ready.body?.checks?.database, 'down');
  t.equal((await http(base, 'GET', '/healthz')).status, 200, '/healthz: the process itself is alive');

  // ── PostgreSQL comes back on the same port; authgate is NOT restarted ──
  await pg.start();
  await waitFor('/readyz to report ready again', async () => (await http(base, 'GET', '/readyz')).status === 200, 30_000, 200);
  await waitFor('login to work again', async () => (await http(base, 'POST', '/auth/login', { json: { email: first.email, password: PASSWORD } })).status === 200, 30_000, 200);

  for (const u of before) {
    const login = await http(base, 'POST', '/auth/login', { json: { email: u.email, password: PASSWORD } });
    t.equal(login.status, 200, `registration acknowledged before the stop survived (${u.email})`);
    const refreshed = await http(base, 'POST', '/auth/refresh', { json: { refresh_token: u.refresh } });
    t.equal(refreshed.status, 200, 'session acknowledged before the stop survived (its refresh token still rotates)');
  }
  const acknowledged = raced.filter((r) => r.status === 201);
  for (const r of acknowledged) {
    const login = await http(base, 'POST', '/auth/login', { json: { email: r.email, password: PASSWORD } });
    t.equal(login.status, 200, `racing registration acknowledged with 201 was kept (${r.email})`);
  }
  t.comment(`racing registrations: ${acknowledged.length} acknowledged, ${raced.length - acknowledged.length} refused with 503`);
  const fresh = await registerAndLogin(base);
  t.equal((await http(base, 'GET', '/api/after', { token: fresh.access })).status, 200, 'new users register, log in and pass the proxy');
  t.equal((await http(base, 'GET', '/auth/me', { token: first.access })).status, 200, '/auth/me works again');
});
