// Measurement script (not a tap test): 5 rounds of 30 concurrent wrong logins against one account with
// LOGIN_MAX_FAILURES=5, counting real bcrypt compares; overshoot = compares − 5. Run (SQLite / PostgreSQL):
//   node --import ./node_modules/@tapjs/typescript/dist/esm/import.mjs test/ratelimit/measure-overshoot.ts
//   TEST_DATABASE_URL=postgres://… node --import ./node_modules/@tapjs/typescript/dist/esm/import.mjs test/ratelimit/measure-overshoot.ts
import { startTestApp, http, registerAndLogin } from '../helpers/app.js';

const t = await startTestApp({
  config: { security: { login_max_failures: 5, lockout_duration: '60s', login_account_ip_max_failures: 1000, login_slow_after: 1000, login_ip_max_failures: 100000, rate_limit_auth_points: 0 } },
});
const overshoots: number[] = [];
try {
  const core = t.app.context.core;
  for (let round = 0; round < 5; round++) {
    const u = await registerAndLogin(t.url);
    let compares = 0;
    const verify = core.hasher.verify;
    core.hasher.verify = async (p, h) => {
      compares++;
      return verify(p, h);
    };
    const rs = await Promise.all(Array.from({ length: 30 }, () => http(t.url, 'POST', '/auth/login', { json: { email: u.email, password: 'wrong password wrong' } })));
    core.hasher.verify = verify;
    overshoots.push(compares - 5);
    console.log(`round ${round}: statuses ${[...new Set(rs.map((r) => r.status))].join(',')} real compares ${compares} overshoot ${compares - 5}`);
  }
  console.log(`max overshoot ${Math.max(...overshoots)} (${t.db.dialect})`);
} finally {
  await t.close();
}
