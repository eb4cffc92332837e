// Property test over raw sockets: no generated header set — identity header names in random case, with `_`
// for `-`, listed in Connection (to delete the injected ones), duplicated, with CR / LF / obs-fold attempts
// in values — lets a client-chosen identity header reach the upstream. What the upstream receives is either
// nothing (the request was refused with a 4xx) or exactly the identity authgate injected.
// Runs: FUZZ_RUNS (default 300).
import t from 'tap';
import fc from 'fast-check';
import { loginWithRoles, startTestApp } from '../helpers/app.js';
import { rawExchange } from '../hostile/raw-socket.js';

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const IDENTITY = ['x-auth-user-id', 'x-auth-email', 'x-auth-roles', 'x-auth-permissions', 'x-auth-tenant', 'x-auth-session-id', 'x-auth-token', 'x-auth-anything'];
const MARK = 'evil';

const arbName = fc
  .tuple(fc.constantFrom(...IDENTITY), fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }))
  .map(([name, upper, underscore]) => {
    let i = 0;
    let d = 0;
    return [...name].map((c) => (c === '-' ? (underscore[d++] ? '_' : '-') : upper[i++ % upper.length] ? c.toUpperCase() : c)).join('');
  });

// Mostly well-formed values (those requests get forwarded and the stripping is checked); some smuggling attempts.
const arbValue = fc.oneof(
  { arbitrary: fc.constant(`${MARK}-admin`), weight: 30 },
  { arbitrary: fc.constant(`a, ${MARK}-list`), weight: 10 },
  fc.constant(`${MARK}\r\nX-Auth-User-Id: ${MARK}-crlf`),
  fc.constant(`${MARK}\nX-Auth-Roles: ${MARK}-lf`),
  fc.constant(`${MARK}\rX-Auth-Roles: ${MARK}-cr`),
  fc.constant(`${MARK}\r\n X-Auth-Roles: ${MARK}-fold`),
  fc.constant(`${MARK}\x00nul`),
);

const arbHeaders = fc.record({
  identity: fc.array(fc.tuple(arbName, arbValue), { minLength: 1, maxLength: 6 }),
  connection: fc.option(fc.array(fc.oneof(arbName, fc.constantFrom('keep-alive', 'authorization', 'host', 'x-forwarded-for')), { minLength: 1, maxLength: 4 }), { nil: undefined }),
  route: fc.constantFrom('/api/fuzz', '/public/fuzz', '/t/default/fuzz'),
  withToken: fc.boolean(),
});

t.test('no client-chosen identity header reaches the upstream', async (t) => {
  const app = await startTestApp({ config: { security: { rate_limit_ip_points: 0 } } });
  t.teardown(() => app.close());
  const user = await loginWithRoles(app, ['viewer']);
  let runs = 0;
  let forwarded = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(arbHeaders, async ({ identity, connection, route, withToken }) => {
      runs += 1;
      const lines = [`GET ${route} HTTP/1.1`, 'Host: authgate.test'];
      if (withToken) lines.push(`Authorization: Bearer ${user.access}`);
      for (const [name, value] of identity) lines.push(`${name}: ${value}`);
      // `close` always joins the list so every exchange ends when the server has answered.
      lines.push(`Connection: ${[...(connection ?? []), 'close'].join(', ')}`);
      const before = app.upstream.received.length;
      const res = await rawExchange(app.app.port, { chunks: [Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')], deadlineMs: 5000 });
      if (res.statuses.some((s) => s >= 500)) throw new Error(`5xx: ${JSON.stringify(res.statuses)}`);
      const got = app.upstream.received.slice(before);
      if (got.length === 0) {
        refused += 1;
        return true;
      }
      forwarded += 1;
      for (const rec of got) {
        const raw = rec.rawHeaders;
        const seen = new Map<string, string[]>();
        for (let i = 0; i < raw.length; i += 2) {
          const n = raw[i]!.toLowerCase().replaceAll('_', '-');
          if (!n.startsWith('x-auth-')) continue;
          if (raw[i + 1]!.includes(MARK)) throw new Error(`client value reached the upstream: ${raw[i]}: ${raw[i + 1]}`);
          seen.set(n, [...(seen.get(n) ?? []), raw[i + 1]!]);
        }
        for (const [n, values] of seen) if (values.length > 1) throw new Error(`${n} arrived ${values.length} times`);
        const injected = seen.get('x-auth-user-id')?.[0];
        if (injected !== undefined && injected !== user.userId) throw new Error(`x-auth-user-id ${injected} is not the token's subject`);
        if (!withToken && seen.size > 0) throw new Error(`anonymous request carried identity headers: ${[...seen.keys()].join(',')}`);
        if (withToken && route !== '/public/fuzz' && injected !== user.userId) throw new Error('authenticated request lost its injected identity (Connection-listed?)');
      }
      return true;
    }),
    { numRuns: FUZZ_RUNS },
  );
  t.comment(`identity-header fuzz: ${runs} runs (${forwarded} forwarded, ${refused} refused)`);
  t.ok(forwarded > 0, `some requests were forwarded (${forwarded}) — the property was checked on real upstream input`);
});
