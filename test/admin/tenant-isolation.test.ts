// Multi-tenancy end to end: one email in two tenants is two accounts with separate passwords, tokens
// carry their tenant (tid), and the proxy refuses a tenant-A token on a `tenant_param` route of tenant B.
import t from 'tap';
import { http, PASSWORD, registerAndLogin, startTestApp, uniqueEmail, type TestApp } from '../helpers/app.js';

let ta: TestApp;
let base: string;

t.before(async () => {
  ta = await startTestApp({ config: { security: { login_slow_after: 1000, rate_limit_auth_points: 0 } } });
  base = ta.url;
  const scope = { actor: 'test', tenantId: null, meta: { ip: null, userAgent: null } };
  await ta.app.context.core.admin.tenants.create(scope, { slug: 'alpha', name: 'Alpha' });
  await ta.app.context.core.admin.tenants.create(scope, { slug: 'bravo', name: 'Bravo' });
});
t.teardown(async () => ta?.close());

t.test('the same email in two tenants is two accounts', async (t) => {
  const email = uniqueEmail('twin');
  const a = await registerAndLogin(base, { email, tenant: 'alpha' });
  const b = await registerAndLogin(base, { email, tenant: 'bravo', password: 'another strong passphrase 7' });
  t.not(a.userId, b.userId);
  const va = await http(base, 'POST', '/auth/validate', { json: { token: a.access } });
  const vb = await http(base, 'POST', '/auth/validate', { json: { token: b.access } });
  t.equal(va.body.tenant, 'alpha');
  t.equal(vb.body.tenant, 'bravo');
  t.equal(va.body.sub, a.userId);
  // Each tenant's password belongs to its own account only.
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD, tenant: 'bravo' } })).status, 401);
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: 'another strong passphrase 7', tenant: 'alpha' } })).status, 401);
  // Not registered in the default tenant at all.
  t.equal((await http(base, 'POST', '/auth/login', { json: { email, password: PASSWORD } })).status, 401);
  t.equal((await http(base, 'GET', '/auth/me', { token: a.access })).body.user.tenant, 'alpha');
  // Logging out everywhere in one tenant leaves the twin alone.
  t.equal((await http(base, 'POST', '/auth/logout-all', { token: a.access })).status, 204);
  t.equal((await http(base, 'GET', '/auth/me', { token: b.access })).status, 200);
});

t.test('a tenant-A token on a tenant_param route of tenant B → 403, nothing forwarded', async (t) => {
  const a = await registerAndLogin(base, { tenant: 'alpha' });
  const before = ta.upstream.received.length;
  const own = await http(base, 'GET', '/t/alpha/projects', { token: a.access });
  t.equal(own.status, 200, 'own tenant passes');
  t.equal(ta.upstream.received.length, before + 1);
  const other = await http(base, 'GET', '/t/bravo/projects', { token: a.access });
  t.equal(other.status, 403);
  const encoded = await http(base, 'GET', '/t/%62ravo/projects', { token: a.access });
  t.equal(encoded.status, 403, 'percent-encoded slug normalised before the comparison');
  t.equal(ta.upstream.received.length, before + 1, 'nothing of tenant B reached the upstream');
  t.equal((await http(base, 'GET', '/t/alpha/projects')).status, 401, 'no token → 401');
});
