// Property test through the real proxy: for generated request paths (dot segments, duplicate slashes,
// percent-encodings, mixed case) the echo upstream receives exactly the path that was authorised —
// normalizeRequestTarget's output, the same one `explain` reports — and ambiguous inputs get 400 and
// reach nothing.
import t from 'tap';
import fc from 'fast-check';
import { compilePolicy, explain, normalizeRequestTarget } from '../../core/policy/index.js';
import { isAppError } from '../../core/errors.js';
import { startTestApp } from '../helpers/app.js';
import { rawGet } from './raw-http.js';

const policy = (upstream: string) => `
version: 1
upstreams: { app: ${upstream} }
routes:
  - { name: open, match: { path: "/**" }, upstream: app, access: public }
`;

const segment = fc.oneof(
  fc.constantFrom('.', '..', '', 'a', 'A', 'admin', 'Admin', '%2e', '%2E%2e', '%61dmin', '%41', '%2F', '%2f', '%5C', '%00', '%25', '%252e', '%7e', '%zz', '%', ';x', '~', '-_.', '%C3%A9', 'x%20y'),
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,6}$/),
);
const pathArb = fc.array(segment, { minLength: 1, maxLength: 7 }).map((segs) => `/${segs.join('/')}`);
const queryArb = fc.option(fc.stringMatching(/^[A-Za-z0-9=&%/._-]{0,12}$/), { nil: undefined });

t.test('the upstream receives exactly the authorised path', async (t) => {
  const app = await startTestApp({ policy });
  t.teardown(() => app.close());
  const compiled = compilePolicy(policy(app.upstream.url)).policy!;
  let accepted = 0;
  let rejected = 0;
  await fc.assert(
    fc.asyncProperty(pathArb, queryArb, async (path, query) => {
      const target = query === undefined ? path : `${path}?${query}`;
      let expected: string | null;
      try {
        expected = normalizeRequestTarget(target).path;
      } catch (err) {
        if (!isAppError(err)) throw err;
        expected = null;
      }
      const before = app.upstream.received.length;
      const res = await rawGet(app.app.port, target);
      if (expected === null) {
        rejected += 1;
        return res.status === 400 && app.upstream.received.length === before && explain(compiled, 'GET', target).code === 'ERR_BAD_PATH';
      }
      accepted += 1;
      const got = app.upstream.received.at(-1)!;
      const explained = explain(compiled, 'GET', target);
      return res.status === 200 && app.upstream.received.length === before + 1 && explained.path === expected && got.url === (query ? `${expected}?${query}` : expected);
    }),
    { numRuns: 300 },
  );
  t.ok(accepted > 20, `accepted ${accepted}`);
  t.ok(rejected > 20, `rejected ${rejected}`);
});
