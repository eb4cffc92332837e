// Differential property test: for generated requests (methods, dot segments, encodings, double slashes,
// tenants, identities), the decision the proxy took must equal the decision recomputed by core/policy's
// explain() from what the echo upstream actually received (path + identity headers). A forwarded request
// must be allowed for exactly that path and identity; a refused one must be refused by explain() too,
// with the same status. Runs: FUZZ_RUNS (default 300).
import t from 'tap';
import fc from 'fast-check';
import { Client } from 'undici';
import { explain } from '../../core/policy/index.js';
import { loginWithRoles, startTestApp } from '../helpers/app.js';

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const SEGMENTS = ['api', 'orders', '1', 'public', 't', 'default', 'other', 'health', 'admin-ui', 'x', '.', '..', '%2e', '%2E%2e', '%41', 'a%20b', '%C3%A9', '~u', '', 'api', 'orders'];

t.test('proxy decision == explain() on what the upstream received', async (t) => {
  const app = await startTestApp({ config: { security: { rate_limit_ip_points: 0, rate_limit_auth_points: 0 } } });
  t.teardown(() => app.close());
  const identities = [
    { name: 'anonymous', token: null as string | null, roles: [] as string[] },
    ...(await Promise.all(
      [['user'], ['viewer'], ['editor'], ['admin'], ['viewer', 'user']].map(async (roles) => ({ name: roles.join('+'), token: (await loginWithRoles(app, roles)).access as string | null, roles })),
    )),
  ];
  const client = new Client(app.url, { pipelining: 1 });
  t.teardown(() => client.close());
  const policy = () => app.app.context.policies.current;

  const arbRequest = fc.record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'),
    segments: fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 6 }),
    query: fc.constantFrom('', '?q=1', '?a=%2e%2e/x', '?next=/admin-ui'),
    who: fc.nat({ max: identities.length - 1 }),
  });

  let forwarded = 0;
  let refused = 0;
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(arbRequest, async ({ method, segments, query, who }) => {
      runs += 1;
      const id = identities[who]!;
      const target = `/${segments.join('/')}${query}`;
      const before = app.upstream.received.length;
      const res = await client.request({ method: method as 'GET', path: target, headers: id.token ? { authorization: `Bearer ${id.token}` } : {} });
      await res.body.dump();
      const asToken = id.token ? { roles: id.roles, tenant: 'default', authenticated: true } : { authenticated: false };
      const fromClient = explain(policy(), method, target, asToken);
      if (app.upstream.received.length === before + 1) {
        forwarded += 1;
        const rec = app.upstream.received.at(-1)!;
        const h = rec.headers;
        const userId = h['x-auth-user-id'];
        const roles = typeof h['x-auth-roles'] === 'string' && h['x-auth-roles'] !== '' ? h['x-auth-roles'].split(',') : [];
        const asReceived = userId ? { roles, tenant: String(h['x-auth-tenant']), authenticated: true } : { authenticated: false };
        const recomputed = explain(policy(), rec.method, rec.url, asReceived);
        if (res.statusCode !== 200) throw new Error(`forwarded but answered ${res.statusCode}: ${target}`);
        if (recomputed.decision !== 'allow') throw new Error(`forwarded ${method} ${target} as ${rec.url} but explain() denies it: ${recomputed.reason}`);
        if (fromClient.decision !== 'allow' || fromClient.route !== recomputed.route)
          throw new Error(`client target ${target} → ${fromClient.route}/${fromClient.decision}, received ${rec.url} → ${recomputed.route}/${recomputed.decision}`);
        if (`${fromClient.path}${query}` !== rec.url) throw new Error(`matched ${fromClient.path} but forwarded ${rec.url}`);
        if (id.token !== null && needsIdentity(recomputed.route) && (roles.join(',') !== id.roles.join(',') || h['x-auth-tenant'] !== 'default'))
          throw new Error(`identity forwarded (${roles.join(',')}) differs from the token's (${id.roles.join(',')})`);
        return true;
      }
      refused += 1;
      if (app.upstream.received.length !== before) throw new Error('more than one request reached the upstream');
      if (res.statusCode >= 500) throw new Error(`5xx for ${method} ${target}`);
      if (fromClient.decision !== 'deny') throw new Error(`refused ${method} ${target} (${res.statusCode}) but explain() allows it via ${fromClient.route}`);
      if (fromClient.status !== res.statusCode) throw new Error(`refused ${method} ${target} with ${res.statusCode}, explain() says ${fromClient.status} (${fromClient.reason})`);
      return true;
    }),
    { numRuns: FUZZ_RUNS },
  );
  t.comment(`policy differential fuzz: ${runs} runs (${forwarded} forwarded, ${refused} refused)`);
  t.ok(forwarded > 0 && refused > 0, `both outcomes exercised (${forwarded} forwarded, ${refused} refused)`);

  /** Routes that inject identity (everything but public ones) in the test policy. */
  function needsIdentity(route: string | null): boolean {
    return route !== null && route !== 'health' && route !== 'public';
  }
});
