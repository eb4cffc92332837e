// The CI variant of the soak (bench/soak.ts, `npm run soak`): the same mixed traffic against a real
// `authgate serve` child for SOAK_SECONDS (default 60); fails on any 5xx / transport error or on growth of
// RSS, heap, handles, fds or event-loop delay. Needs dist/ built (`npm test` builds first).
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runSoak } from '../../bench/soak.js';

const root = new URL('../../', import.meta.url).pathname;
const seconds = Number(process.env.SOAK_SECONDS ?? 60);

t.test(`soak: ${seconds} s of mixed traffic without 5xx or growth`, { skip: existsSync(join(root, 'dist/proxy/main.js')) ? false : 'dist/ not built', timeout: (seconds + 120) * 1000 }, async (t) => {
  const result = await runSoak({ seconds, log: (line) => t.comment(line) });
  t.ok(result.requests > 0, `${result.requests} requests sent`);
  t.ok(Object.keys(result.byOp).length >= 7, `every kind of traffic ran: ${Object.keys(result.byOp).join(', ')}`);
  t.same(result.failures, [], 'no 5xx, no transport error, no monotonic growth');
  t.same(result.unexpected, [], 'no unexpected 4xx (every revoked token was refused, every other call succeeded)');
});
