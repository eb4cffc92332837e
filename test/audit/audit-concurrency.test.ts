// Two authgate-like processes and authctl append to one audit chain at once (500 events); the chain stays
// linear (PostgreSQL: pg_advisory_xact_lock; SQLite: BEGIN IMMEDIATE) and `authctl audit verify` passes.
// Tampering (SQL UPDATE of one row's details, DELETE of a middle row) makes verify exit 1 naming the row.
// Needs dist/ (npx tsc -p tsconfig.build.json). Runs on PostgreSQL when TEST_DATABASE_URL is set.
import t from 'tap';
import { createTestDatabase } from '../helpers/db.js';
import { authctl, ROOT, rawSql, runNode, startTestCore } from './audit-helpers.js';

const PER_WRITER = 240;
const CLI_EVENTS = 20;
const CLI_PARALLEL = 4;

t.test('concurrent writers keep one linear chain; tampering is named', async (t) => {
  const db = await createTestDatabase('auditconc');
  t.teardown(() => db.drop());
  // Migrate once (and keep a core for raw SQL checks).
  const tc = await startTestCore({ db });
  t.teardown(() => tc.close());
  const env = { DATABASE_URL: db.url };
  const dbArgs = ['--database-url', db.url];

  const writers = ['a', 'b'].map((label) => runNode([`${ROOT}test/audit/fixtures/write-audit-events.mjs`, db.url, String(PER_WRITER), label], env));
  let launched = 0;
  const cliResults: Array<{ code: number | null; stderr: string }> = [];
  const cliWorker = async () => {
    while (launched < CLI_EVENTS) {
      launched += 1;
      cliResults.push(await authctl(['audit', 'purge', ...dbArgs], env));
    }
  };
  const [[a, b]] = await Promise.all([Promise.all(writers), Promise.all(Array.from({ length: CLI_PARALLEL }, cliWorker))]);
  t.equal(a!.code, 0, a!.stderr);
  t.equal(b!.code, 0, b!.stderr);
  t.same(cliResults.filter((r) => r.code !== 0), [], 'every authctl run succeeded');

  const [count] = (await rawSql(tc.core, 'SELECT COUNT(*) AS n FROM audit_events')) as Array<{ n: number | string }>;
  t.equal(Number(count?.n), 2 * PER_WRITER + CLI_EVENTS, '500 events');
  const [last] = (await rawSql(tc.core, 'SELECT MAX(seq) AS max FROM audit_events')) as Array<{ max: number | string }>;
  t.equal(Number(last?.max), 500, 'seq 1..500 without holes');
  // The CLI events landed between the writers' events (the writers wait for one halfway).
  const seqsOf = async (actor: string) => (await tc.core.auditQuery.list({ limit: 1000 })).events.filter((e) => e.actor.startsWith(actor)).map((e) => e.seq);
  const cliSeqs = await seqsOf('cli:');
  const writerSeqs = await seqsOf('proc:');
  t.ok(Math.min(...cliSeqs) < Math.max(...writerSeqs), 'CLI and writer appends interleave');

  const verify = await authctl(['audit', 'verify', ...dbArgs], env);
  t.equal(verify.code, 0, verify.stderr);
  t.match(verify.stdout, /audit chain intact: 500 rows verified/);
  const asJson = await authctl(['audit', 'verify', '--json', ...dbArgs], env);
  t.match(JSON.parse(asJson.stdout), { ok: true, rows: 500, head: { seq: 500 } });

  await t.test('authctl audit list and export', async (t) => {
    const list = await authctl(['audit', 'list', '--action', 'audit.*', '--limit', '3', '--json', ...dbArgs], env);
    t.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as Array<{ action: string }>;
    t.equal(rows.length, 3);
    t.ok(rows.every((r) => r.action === 'audit.purged'));
    const table = await authctl(['audit', 'list', '--user', 'item-7', ...dbArgs], env);
    t.match(table.stdout, /SEQ\s+TIME\s+ACTION/);
    t.equal(table.stdout.trim().split('\n').length, 3, 'header + one event per writer');
    const bad = await authctl(['audit', 'list', '--action', 'no spaces', ...dbArgs], env);
    t.equal(bad.code, 2, 'invalid filter is a usage error');
    const exp = await authctl(['audit', 'export', '--since', '2000-01-01T00:00:00Z', ...dbArgs], env);
    t.equal(exp.code, 0, exp.stderr);
    const lines = exp.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; hash: string; prev_hash: string });
    t.equal(lines.length, 500, 'JSON Lines, one per event');
    t.same(lines.map((l) => l.seq), Array.from({ length: 500 }, (_, i) => i + 1), 'oldest first');
    t.ok(lines.every((l, i) => i === 0 || l.prev_hash === lines[i - 1]!.hash), 'the export carries the chain');
  });

  await t.test('UPDATE of one row details → verify exits 1 naming the row', async (t) => {
    const [row] = (await rawSql(tc.core, 'SELECT id, details FROM audit_events WHERE seq = 250')) as Array<{ id: string; details: string }>;
    await rawSql(tc.core, `UPDATE audit_events SET details = '{"writer":"z","i":0}' WHERE seq = 250`);
    const r = await authctl(['audit', 'verify', ...dbArgs], env);
    t.equal(r.code, 1);
    t.match(r.stdout, /BROKEN/);
    t.match(r.stdout, new RegExp(`row id ${row!.id} seq 250 \\(hash_mismatch\\)`));
    await rawSql(tc.core, `UPDATE audit_events SET details = '${row!.details.replace(/'/g, "''")}' WHERE seq = 250`);
    t.equal((await authctl(['audit', 'verify', ...dbArgs], env)).code, 0, 'restored row verifies again');
  });

  await t.test('DELETE of a middle row → verify exits 1 naming the gap', async (t) => {
    const [row] = (await rawSql(tc.core, 'SELECT id FROM audit_events WHERE seq = 301')) as Array<{ id: string }>;
    await rawSql(tc.core, 'DELETE FROM audit_events WHERE seq = 300');
    const r = await authctl(['audit', 'verify', '--json', ...dbArgs], env);
    t.equal(r.code, 1);
    t.match(JSON.parse(r.stdout), { ok: false, problem: { kind: 'gap', seq: 301, id: row!.id }, head: { seq: 299 } });
    t.match(JSON.parse(r.stdout).problem.message, /seq 300 missing/);
  });
});
