// Measures POST /auth/password-reset/request latency for an existing vs an unknown account (SPEC §3:
// "similar timing"), against a real SMTP server. Not a test; run with
//   node --import @tapjs/typescript/import bench/reset-request-timing.ts [rounds]
import { http, registerAndLogin, uniqueEmail } from '../test/helpers/app.js';
import { startEmailApp } from '../test/email/email-test-app.js';

const rounds = Number(process.argv[2] ?? 300);
const e = await startEmailApp({ logLevel: 'silent', config: { mail: { request_ip_per_hour: 1_000_000, max_per_account_per_hour: 1000 } } });
try {
  const user = await registerAndLogin(e.url);
  const unknown = uniqueEmail('nobody');
  const times: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] };
  for (let i = 0; i < rounds + 20; i++) {
    for (const kind of (i % 2 ? ['known', 'unknown'] : ['unknown', 'known']) as Array<'known' | 'unknown'>) {
      const started = process.hrtime.bigint();
      const res = await http(e.url, 'POST', '/auth/password-reset/request', { json: { email: kind === 'known' ? user.email : unknown } });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (res.status !== 202) throw new Error(`status ${res.status}`);
      if (i >= 20) times[kind].push(ms); // first 20 rounds warm up
    }
    await e.idle();
  }
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  for (const kind of ['known', 'unknown'] as const)
    console.log(`${kind.padEnd(8)} n=${times[kind].length} median=${q(times[kind], 0.5).toFixed(3)}ms p90=${q(times[kind], 0.9).toFixed(3)}ms p99=${q(times[kind], 0.99).toFixed(3)}ms`);
  console.log(`mails delivered: ${e.smtp!.messages.length}`);
} finally {
  await e.close();
}
