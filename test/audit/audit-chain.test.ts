// The hash-chained audit store through core: append + verify, query filters and paging, tamper
// detection (UPDATE, DELETE, personal data), GDPR erase, retention purge with an anchor, the secret
// sanitiser and the fail-closed policy. Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
import t from 'tap';
import { ManualClock } from '../../core/clock.js';
import type { AppError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/audit/audit-log.js';
import { canonicalJson } from '../../core/audit/audit-chain.js';
import { rawSql, startTestCore } from './audit-helpers.js';

const MARKER = 'SECRET-MARKER-7f3a';
const DAY = 86_400_000;

const ev = (over: Partial<AuditEvent> = {}): AuditEvent => ({
  action: 'auth.login.succeeded',
  actor: 'user-a',
  tenant: 'default',
  target: 'user-a',
  outcome: 'success',
  ip: '203.0.113.7',
  userAgent: 'test-agent/1.0',
  ...over,
});

t.test('canonical JSON sorts keys at every depth and renders dates as ISO', async (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: new Date(0) }], c: null } }), '{"a":{"c":null,"d":[{"y":"1970-01-01T00:00:00.000Z","z":1}]},"b":1}');
});

t.test('audit store', async (t) => {
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  const tc = await startTestCore({ clock, config: { audit: { retention: '30d' } } });
  t.teardown(() => tc.close());
  const { core } = tc;

  await core.audit.record(ev({ action: 'auth.register', actor: 'user-a', target: 'user-a' }));
  await core.audit.record(ev({ action: 'auth.login.failed', actor: 'anonymous', target: null, outcome: 'failure', details: { reason: 'unknown_account' } }));
  await core.audit.record(ev({ action: 'auth.login.succeeded' }));
  await core.audit.record(ev({ action: 'user.disabled', actor: 'admin-1', tenant: 'acme', target: 'user-b', details: { reason: 'offboarding' } }));
  await core.audit.record(ev({ action: 'admin.custom_thing', actor: 'cli:ops', tenant: null, target: null, ip: null, userAgent: null }));

  await t.test('the chain verifies and rows are linked by seq', async (t) => {
    const report = await core.auditQuery.verify();
    t.equal(report.ok, true);
    t.equal(report.rows, 5);
    t.equal(report.head.seq, 5);
    const { events } = await core.auditQuery.list({ limit: 10 });
    t.same(events.map((e) => e.seq), [5, 4, 3, 2, 1], 'newest first');
    t.equal(events[0]!.prev_hash, events[1]!.hash);
    t.equal(events[4]!.prev_hash, '0'.repeat(64));
  });

  await t.test('filters: user (actor or target), action exact/prefix, tenant, since, limit + cursor', async (t) => {
    t.same((await core.auditQuery.list({ user: 'user-a' })).events.map((e) => e.action), ['auth.login.succeeded', 'auth.register']);
    t.same((await core.auditQuery.list({ user: 'user-b' })).events.map((e) => e.action), ['user.disabled']);
    t.same((await core.auditQuery.list({ action: 'auth.*' })).events.map((e) => e.seq), [3, 2, 1]);
    t.same((await core.auditQuery.list({ action: 'auth.login.failed' })).events.map((e) => e.seq), [2]);
    t.same((await core.auditQuery.list({ action: 'auth.login.*' })).events.map((e) => e.seq), [3, 2]);
    t.same((await core.auditQuery.list({ action: 'admin.*' })).events.map((e) => e.actor), ['cli:ops']);
    t.same((await core.auditQuery.list({ tenant: 'acme' })).events.map((e) => e.seq), [4]);
    t.same((await core.auditQuery.list({ since: '2025-01-02T00:00:00Z' })).events, []);
    t.equal((await core.auditQuery.list({ since: '2024-12-31' })).events.length, 5);
    const p1 = await core.auditQuery.list({ limit: 2 });
    t.same(p1.events.map((e) => e.seq), [5, 4]);
    t.equal(p1.next_cursor, '4');
    const p2 = await core.auditQuery.list({ limit: 2, cursor: p1.next_cursor! });
    t.same(p2.events.map((e) => e.seq), [3, 2]);
    const p3 = await core.auditQuery.list({ limit: 2, cursor: p2.next_cursor! });
    t.same(p3.events.map((e) => e.seq), [1]);
    t.equal(p3.next_cursor, null);
  });

  await t.test('bad filters are a 400 naming each field', async (t) => {
    const err = (await core.auditQuery.list({ action: "auth'; DROP", since: 'yesterday', limit: '0', cursor: 'abc' }).catch((e: unknown) => e)) as AppError;
    t.equal(err.code, 'ERR_VALIDATION');
    t.equal(err.status, 400);
    t.same(err.errors?.map((e) => e.field).sort(), ['action', 'cursor', 'limit', 'since']);
  });

  await t.test('UPDATE of a row detail is named as a hash mismatch', async (t) => {
    const [orig] = (await rawSql(core, 'SELECT details FROM audit_events WHERE seq = 4')) as Array<{ details: string }>;
    await rawSql(core, `UPDATE audit_events SET details = '{"reason":"nothing to see"}' WHERE seq = 4`);
    const report = await core.auditQuery.verify();
    t.equal(report.ok, false);
    t.equal(report.problem?.kind, 'hash_mismatch');
    t.equal(report.problem?.seq, 4);
    t.match(report.problem?.message, /seq 4/);
    await rawSql(core, `UPDATE audit_events SET details = '${orig!.details.replace(/'/g, "''")}' WHERE seq = 4`);
    t.equal((await core.auditQuery.verify()).ok, true, 'restored');
  });

  await t.test('changing an IP (outside the hash) is caught by the personal-data digest', async (t) => {
    await rawSql(core, `UPDATE audit_events SET ip = '198.51.100.1' WHERE seq = 3`);
    const report = await core.auditQuery.verify();
    t.equal(report.problem?.kind, 'personal_data_mismatch');
    t.equal(report.problem?.seq, 3);
    await rawSql(core, `UPDATE audit_events SET ip = '203.0.113.7' WHERE seq = 3`);
    t.equal((await core.auditQuery.verify()).ok, true, 'restored');
  });

  await t.test('GDPR erase clears ip/user agent of the user rows and the chain still verifies', async (t) => {
    const erased = await core.auditQuery.erasePersonalData('user-a');
    t.equal(erased, 2);
    const { events } = await core.auditQuery.list({ user: 'user-a' });
    for (const e of events) {
      t.equal(e.ip, null);
      t.equal(e.user_agent, null);
      t.equal(e.actor, 'user-a', 'the pseudonymous id stays');
    }
    t.equal((await core.auditQuery.list({ user: 'user-b' })).events[0]!.ip, '203.0.113.7', 'other users untouched');
    t.equal((await core.auditQuery.verify()).ok, true);
  });

  await t.test('secrets never reach a row or a log line; personal fields are split off', async (t) => {
    const jwt = `eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxMjMifQ.${MARKER}`;
    await core.audit.record(
      ev({
        action: 'auth.password.reset',
        details: {
          password: MARKER,
          new_password: MARKER,
          refresh_token: MARKER,
          resetLink: `https://x.test/reset?token=${MARKER}`,
          nested: { client_secret: MARKER, ok: 'kept', deeper: [{ code: MARKER }] },
          innocent: jwt,
          url: `https://x.test/verify?token=${MARKER}`,
          email: 'a@example.com',
          reason: 'requested',
        },
      }),
    );
    const rows = await rawSql(core, 'SELECT * FROM audit_events');
    t.notMatch(JSON.stringify(rows), MARKER);
    t.notMatch(tc.logs.text, MARKER);
    const [last] = (await core.auditQuery.list({ limit: 1 })).events;
    t.same(last!.details, { nested: { ok: 'kept', deeper: [{}] }, innocent: '[REDACTED]', url: '[REDACTED]', reason: 'requested' });
    t.same(last!.personal, { email: 'a@example.com' });
    t.equal((await core.auditQuery.verify()).ok, true);
  });

  await t.test('every event is also a JSON log line carrying seq and hash', async (t) => {
    const lines = tc.logs.lines.map((l) => JSON.parse(l) as { audit?: { action: string; seq: number; hash: string }; persisted?: boolean });
    const audits = lines.filter((l) => l.audit);
    t.equal(audits.length, 6);
    t.same(audits.map((l) => l.audit!.seq), [1, 2, 3, 4, 5, 6]);
    t.ok(audits.every((l) => l.persisted === true && /^[0-9a-f]{64}$/.test(l.audit!.hash)));
  });

  await t.test('DELETE of a middle row is named as a gap', async (t) => {
    await rawSql(core, 'DELETE FROM audit_events WHERE seq = 2');
    const report = await core.auditQuery.verify();
    t.equal(report.ok, false);
    t.equal(report.problem?.kind, 'gap');
    t.equal(report.problem?.seq, 3);
    t.match(report.problem?.message, /seq 2 missing/);
  });
});

t.test('retention purge keeps the chain verifiable from an anchor', async (t) => {
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  const tc = await startTestCore({ clock, config: { audit: { retention: '30d' } } });
  t.teardown(() => tc.close());
  const { core } = tc;
  for (let i = 0; i < 4; i++) await core.audit.record(ev({ details: { i } }));
  clock.advance(40 * DAY);
  for (let i = 4; i < 7; i++) await core.audit.record(ev({ details: { i } }));

  const nothing = await core.auditQuery.purge('system', { retentionMs: 100 * DAY });
  t.equal(nothing.purged, 0);
  t.equal(nothing.anchor, null);

  const result = await core.auditQuery.purge('cli:ops');
  t.equal(result.purged, 4);
  t.equal(result.anchor?.seq, 4);
  const report = await core.auditQuery.verify();
  t.equal(report.ok, true, report.problem?.message ?? 'ok');
  t.same(report.start.anchored, true);
  t.equal(report.start.seq, 4);
  t.equal(report.rows, 4, 'three kept rows + the audit.purged row');
  const [purgedRow] = (await core.auditQuery.list({ action: 'audit.purged' })).events;
  t.match(purgedRow, { actor: 'cli:ops', details: { purged: 4, through_seq: 4, anchor_hash: result.anchor!.hash } });

  // Appends after a purge continue the chain; a second purge of everything leaves only its own row.
  clock.advance(40 * DAY);
  await core.audit.record(ev());
  clock.advance(40 * DAY);
  const second = await core.auditQuery.purge('system');
  t.equal(second.purged, 5);
  t.equal((await core.auditQuery.verify()).ok, true);

  await t.test('a forged anchor is detected', async (t) => {
    await rawSql(core, `UPDATE audit_anchors SET hash = '${'f'.repeat(64)}' WHERE seq = ${second.anchor!.seq}`);
    const r = await core.auditQuery.verify();
    t.equal(r.ok, false);
    t.equal(r.problem?.kind, 'broken_link');
  });
});

t.test('fail closed: when the row cannot be written the caller gets 503 and an error log line', async (t) => {
  const tc = await startTestCore();
  t.teardown(() => tc.close());
  await rawSql(tc.core, 'DROP TABLE audit_events');
  const err = (await tc.core.audit.record(ev({ details: { password: MARKER } })).catch((e: unknown) => e)) as AppError;
  t.equal(err.code, 'ERR_AUDIT_UNAVAILABLE');
  t.equal(err.status, 503);
  const line = tc.logs.lines.map((l) => JSON.parse(l) as { level: string; persisted?: boolean; audit?: { action: string } }).find((l) => l.persisted === false);
  t.equal(line?.level, 'error');
  t.equal(line?.audit?.action, 'auth.login.succeeded');
  t.notMatch(tc.logs.text, MARKER);
});
