// explain(): normalisation, host from URLs, default routes, 400 for bad paths, identity defaults.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { compilePolicy } from '../../core/policy/compile.js';
import { explain } from '../../core/policy/explain.js';

const load = (file: string) => {
  const { policy, problems } = compilePolicy(readFileSync(new URL(file, import.meta.url), 'utf8'));
  if (!policy) throw new Error(JSON.stringify(problems));
  return policy;
};
const demo = load('../../policies.yaml');
const tenants = load('./fixtures/tenants.policies.yaml');

t.test('explain on the demo policy', async (t) => {
  const cases: [method: string, target: string, as: Parameters<typeof explain>[3], want: Partial<ReturnType<typeof explain>>][] = [
    ['GET', '/health', {}, { path: '/health', route: 'health', decision: 'allow', reason: 'public route', status: 200 }],
    ['get', '/api/orders/../orders/7?x=1', { roles: ['viewer'] }, { path: '/api/orders/7', route: 'orders-read', decision: 'allow', status: 200 }],
    ['POST', '/api/orders', { roles: ['viewer'] }, { route: 'orders-write', decision: 'deny', reason: 'missing permission orders:write', status: 403, code: 'ERR_POLICY_DENIED' }],
    ['GET', '/api/orders', {}, { route: 'orders-read', decision: 'deny', status: 401, code: 'ERR_UNAUTHENTICATED' }],
    ['GET', '/api/orders', { roles: ['viewer'], authenticated: false }, { decision: 'deny', status: 401 }],
    ['GET', '/api/me', { authenticated: true }, { route: 'profile', decision: 'allow' }],
    ['GET', '/t/acme/x', { tenant: 'globex' }, { route: 'tenant-data', decision: 'deny', reason: 'tenant globex does not match path tenant acme', code: 'ERR_TENANT_MISMATCH' }],
    ['GET', '/nowhere', { roles: ['admin'] }, { route: null, decision: 'deny', status: 403, reason: 'no route matches and the default is deny' }],
    ['GET', '/public/..%2Fadmin-ui', {}, { route: null, decision: 'deny', status: 400, code: 'ERR_BAD_PATH', path: '/public/..%2Fadmin-ui' }],
    ['GET', 'http://localhost:8080/health', {}, { host: 'localhost', route: 'health', decision: 'allow' }],
    ['GET', 'http://h/a\\..\\health', {}, { status: 400 }],
    ['GET', 'health', {}, { status: 400 }],
  ];
  for (const [method, target, as, want] of cases) {
    t.match(explain(demo, method, target, as), want, `${method} ${target}`);
  }
});

t.test('explain uses the URL host, the default route and shadow mode', async (t) => {
  t.match(explain(tenants, 'GET', 'https://API.example.com:443/status'), { route: 'api-status', decision: 'allow', host: 'api.example.com' });
  t.match(explain(tenants, 'GET', '/status', { host: 'api.example.com' }), { route: 'api-status' });
  const fallback = explain(tenants, 'GET', 'https://elsewhere.test/status');
  t.match(fallback, { route: 'web-fallback', isDefault: true, decision: 'allow' });
  t.match(fallback.reason, /default route web-fallback/);
  t.match(explain(tenants, 'GET', '/ops/x', { roles: ['member'] }), { route: 'ops-only', mode: 'shadow', decision: 'deny', status: 403 });
  t.match(explain(tenants, 'GET', 'https://www.example.com/about'), { route: 'web-fallback', isDefault: false }, 'matched on its own');
});

t.test('the result is frozen', async (t) => {
  t.ok(Object.isFrozen(explain(demo, 'GET', '/health')));
});
