// Request-targets that clients would normalise, sent raw over a socket: every spelling of /admin is
// decided as /admin (and forwarded as /admin); ambiguous ones are 400 before matching; nothing denied
// reaches the upstream.
import t from 'tap';
import { startTestApp, loginWithRoles } from '../helpers/app.js';
import { rawGet } from './raw-http.js';

const policy = (upstream: string) => `
version: 1
upstreams: { app: ${upstream} }
roles:
  admin: { permissions: ["*"] }
  viewer: { permissions: [orders:read] }
default: deny
routes:
  - name: public
    match: { path: "/public/**" }
    upstream: app
    access: public
  - name: admin-area
    match: { path: "/admin" }
    upstream: app
    require: { any_role: [admin] }
`;

t.test('path normalisation through the proxy', async (t) => {
  const app = await startTestApp({ policy });
  t.teardown(() => app.close());
  const port = app.app.port;
  const admin = await loginWithRoles(app, ['admin']);
  const viewer = await loginWithRoles(app, ['viewer']);

  const sameAsAdmin = ['/admin', '/admin/../admin', '//admin', '/%61dmin', '/public/%2e%2e/admin', '/public/../admin', '/./admin', '/public/%2E%2E/%61dmin', '/admin/.'];
  for (const target of sameAsAdmin) {
    const before = app.upstream.received.length;
    const anon = await rawGet(port, target);
    t.equal(anon.status, 401, `${target} anonymous → 401`);
    t.match(anon.headers['www-authenticate'], /^Bearer/, `${target} has WWW-Authenticate`);
    const denied = await rawGet(port, target, [`Authorization: Bearer ${viewer.access}`]);
    t.equal(denied.status, 403, `${target} viewer → 403`);
    t.equal(JSON.parse(denied.body).code, 'ERR_POLICY_DENIED');
    t.equal(app.upstream.received.length, before, `${target}: nothing denied reached the upstream`);
    const ok = await rawGet(port, target, [`Authorization: Bearer ${admin.access}`]);
    t.equal(ok.status, 200, `${target} admin → 200`);
    const got = app.upstream.received.at(-1)!;
    t.match(got.url, /^\/admin\/?$/, `${target} forwarded as the normalised path (${got.url})`);
  }

  const ambiguous = [
    '/public/..%2Fadmin',
    '/public/..%2fadmin',
    '/public/%5C..%5Cadmin',
    '/public\\..\\admin',
    '/public/%00/admin',
    '/admin;jsessionid=1',
    '/public/..;/admin',
    '/public/%3B/admin',
    '/public/%zz',
    '/../admin',
    '/public/%252e%252e/admin',
  ];
  for (const target of ambiguous) {
    const before = app.upstream.received.length;
    const res = await rawGet(port, target, [`Authorization: Bearer ${admin.access}`]);
    t.equal(res.status, 400, `${target} → 400`);
    t.equal(JSON.parse(res.body).code, 'ERR_BAD_PATH', `${target} code`);
    t.equal(app.upstream.received.length, before, `${target} did not reach the upstream`);
  }

  // A raw NUL in the request line never gets past the HTTP parser.
  const nul = await rawGet(port, '/public/a\u0000b');
  t.equal(nul.status, 400);

  // Query strings are forwarded verbatim and never matched.
  const q = await rawGet(port, '/public/x?path=/admin&a=%2F..%2F&b=%ZZ');
  t.equal(q.status, 200);
  t.equal(app.upstream.received.at(-1)!.url, '/public/x?path=/admin&a=%2F..%2F&b=%ZZ');
  const q2 = await rawGet(port, '/admin?/public/x');
  t.equal(q2.status, 401, 'a public-looking query does not open /admin');
});
