// Repository contract suite: the same assertions against SQLite always and PostgreSQL when
// TEST_DATABASE_URL is set (Kratos runs one persister suite against every database).
import t from 'tap';
import { openDatabase, type Database } from '../../core/db/database.js';
import { migrate } from '../../core/db/migrator.js';
import { TenantRepository } from '../../core/repositories/tenant.repository.js';
import { UserRepository } from '../../core/repositories/user.repository.js';
import { SessionRepository } from '../../core/repositories/session.repository.js';
import { SigningKeyRepository } from '../../core/repositories/signing-key.repository.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { AppError } from '../../core/errors.js';

const dialects: Array<'sqlite' | 'postgres'> = ['sqlite'];
if (process.env.TEST_DATABASE_URL) dialects.push('postgres');

async function open(dialect: 'sqlite' | 'postgres'): Promise<{ tdb: TestDatabase; db: Database }> {
  const saved = process.env.TEST_DATABASE_URL;
  if (dialect === 'sqlite') delete process.env.TEST_DATABASE_URL;
  try {
    const tdb = await createTestDatabase('repo');
    const db = openDatabase({ url: tdb.url });
    await migrate(db);
    return { tdb, db };
  } finally {
    if (saved) process.env.TEST_DATABASE_URL = saved;
  }
}

for (const dialect of dialects) {
  t.test(`repository contract on ${dialect}`, async (t) => {
    const { tdb, db } = await open(dialect);
    t.teardown(async () => {
      await db.close();
      await tdb.drop();
    });
    const tenants = new TenantRepository(db);
    const slugs = new Map<string, string>();
    const users = new UserRepository(db, async (id) => slugs.get(id) ?? (await tenants.findById(id))?.slug ?? '?');
    const sessions = new SessionRepository(db);
    const keys = new SigningKeyRepository(db);
    const at = new Date('2026-01-01T00:00:00Z');

    t.test('migrations are idempotent and create the default tenant', async (t) => {
      const again = await migrate(db);
      t.same(again.applied, [], 'nothing applied twice');
      const def = await tenants.findBySlug('default');
      t.ok(def, 'default tenant exists');
    });

    const def = (await tenants.findBySlug('default'))!;
    const other = await tenants.create({ slug: 'acme', name: 'Acme' }, at);

    t.test('tenants', async (t) => {
      t.equal(other.slug, 'acme');
      t.same((await tenants.list()).map((x) => x.slug), ['acme', 'default']);
      const dup = await tenants.create({ slug: 'acme', name: 'again' }, at).catch((e: unknown) => e);
      t.type(dup, AppError);
      t.equal((dup as AppError).code, 'ERR_ALREADY_EXISTS');
      t.equal((dup as AppError).status, 409);
    });

    t.test('users are unique per (tenant, email) and scoped by tenant', async (t) => {
      const a = await users.create({ tenantId: def.id, email: 'a@example.com', username: 'alice', passwordHash: '$2b$04$hash', roles: ['user'] }, at);
      const b = await users.create({ tenantId: other.id, email: 'a@example.com', username: 'alice', passwordHash: null, roles: ['viewer', 'editor'] }, at);
      t.not(a.id, b.id, 'same email in two tenants = two accounts');
      t.same(b.roles, ['viewer', 'editor'], 'roles array round-trips');
      t.equal(a.tenantSlug, 'default');
      const dup = await users.create({ tenantId: def.id, email: 'a@example.com', username: 'other', passwordHash: null, roles: [] }, at).catch((e: unknown) => e);
      t.equal((dup as AppError).code, 'ERR_ALREADY_EXISTS');
      t.equal(await users.findById(other.id, a.id), null, 'tenant B cannot read tenant A user by id');
      t.equal((await users.findByEmailWithSecret(def.id, 'a@example.com'))?.passwordHash, '$2b$04$hash');
      t.notOk('passwordHash' in (await users.findById(def.id, a.id))!, 'plain reads carry no hash');
      const updated = await users.update(def.id, a.id, { roles: ['admin'], disabledAt: at }, at);
      t.same(updated?.roles, ['admin']);
      t.same(updated?.disabledAt, at);
      t.equal(await users.update(other.id, a.id, { roles: ['x'] }, at), null, 'cross-tenant update touches nothing');
      t.same((await users.findById(def.id, a.id))?.roles, ['admin']);
    });

    t.test('atomic failure counting and lock', async (t) => {
      const u = await users.create({ tenantId: def.id, email: 'lock@example.com', username: 'locky', passwordHash: null, roles: [] }, at);
      const lockUntil = new Date(at.getTime() + 60_000);
      const results = await Promise.all(Array.from({ length: 8 }, () => users.recordLoginFailure(def.id, u.id, 5, lockUntil, at)));
      const row = await users.findById(def.id, u.id);
      t.equal(row?.failedLoginCount, 8, 'no increment lost under concurrency');
      t.same(row?.lockedUntil, lockUntil);
      t.equal(results.filter((r) => r.locked).length, 1, 'exactly one attempt engages the lock');
    });

    t.test('user listing: filters and cursor pagination return each user once', async (t) => {
      for (let i = 0; i < 7; i++)
        await users.create({ tenantId: other.id, email: `p${i}@example.com`, username: `p${i}`, passwordHash: null, roles: i % 2 ? ['viewer'] : ['user'] }, new Date(at.getTime() + i));
      const seen: string[] = [];
      let after: { createdAt: Date; id: string } | undefined;
      for (;;) {
        const page = await users.list({ tenantId: other.id, limit: 3, ...(after ? { after } : {}) });
        const items = page.slice(0, 3);
        seen.push(...items.map((u) => u.email));
        if (page.length <= 3) break;
        const last = items[items.length - 1]!;
        after = { createdAt: last.createdAt, id: last.id };
      }
      t.equal(seen.length, 8);
      t.equal(new Set(seen).size, 8, 'no duplicates across pages');
      const viewers = await users.list({ tenantId: other.id, role: 'viewer', limit: 100 });
      t.equal(viewers.length, 4, 'role filter (3 odd p-users + the acme alice)');
      const prefix = await users.list({ tenantId: other.id, emailPrefix: 'p1', limit: 100 });
      t.same(prefix.map((u) => u.email), ['p1@example.com']);
    });

    t.test('GDPR erase keeps a pseudonymous row', async (t) => {
      const u = await users.create({ tenantId: def.id, email: 'gone@example.com', username: 'gone', passwordHash: 'x', roles: ['user'] }, at);
      t.ok(await users.erase(def.id, u.id, at));
      t.equal(await users.findById(def.id, u.id), null);
      t.equal(await users.findByEmail(def.id, 'gone@example.com'), null);
      t.notOk(await users.erase(def.id, u.id, at), 'second erase is a no-op');
    });

    t.test('sessions and refresh tokens', async (t) => {
      const u = await users.create({ tenantId: def.id, email: 's@example.com', username: 'sess', passwordHash: null, roles: [] }, at);
      const s = await sessions.create(
        { userId: u.id, tenantId: def.id, ip: '127.0.0.1', userAgent: 'ua', idleExpiresAt: new Date(at.getTime() + 1000), absoluteExpiresAt: new Date(at.getTime() + 5000) },
        at,
      );
      t.equal((await sessions.findById(other.id, s.id)), null, 'session scoped by tenant');
      const rt = await sessions.addRefreshToken(s.id, 'a'.repeat(64), at);
      t.equal((await sessions.findRefreshToken('a'.repeat(64)))?.id, rt.id);
      const spends = await Promise.all([sessions.spendRefreshToken(rt.id, at), sessions.spendRefreshToken(rt.id, at), sessions.spendRefreshToken(rt.id, at)]);
      t.same(spends.filter(Boolean).length, 1, 'exactly one concurrent spend wins');
      t.ok(await sessions.touch(s.id, new Date(at.getTime() + 10), new Date(at.getTime() + 2000)));
      t.same((await sessions.findById(def.id, s.id))?.idleExpiresAt, new Date(at.getTime() + 2000));
      const s2 = await sessions.create({ userId: u.id, tenantId: def.id, ip: null, userAgent: null, idleExpiresAt: new Date(at.getTime() + 1000), absoluteExpiresAt: new Date(at.getTime() + 5000) }, at);
      t.same((await sessions.listForUser(def.id, u.id, { activeAt: at })).length, 2);
      const revoked = await sessions.revoke(def.id, s.id, 'logout', at);
      t.equal(revoked?.id, s.id);
      t.equal(await sessions.revoke(def.id, s.id, 'logout', at), null, 'second revoke is a no-op');
      t.equal((await sessions.findById(def.id, s.id))?.revokedReason, 'logout');
      const all = await sessions.revokeAllForUser(def.id, u.id, 'logout_all', at);
      t.same(all.map((r) => r.id), [s2.id], 'only live sessions are revoked');
      const since = await sessions.listRevokedSince(new Date(at.getTime() - 1));
      t.ok(since.some((r) => r.id === s.id) && since.some((r) => r.id === s2.id));
      const purged = await sessions.purgeEndedBefore(new Date(at.getTime() + 1));
      t.ok(purged >= 2);
      t.equal(await sessions.findRefreshToken('a'.repeat(64)), null, 'refresh tokens purged with their session');
    });

    t.test('signing keys: one active per alg', async (t) => {
      await keys.insert({ kid: 'k1', alg: 'EdDSA', publicJwk: '{}', privateJwk: '{}', active: true, createdAt: at });
      await keys.insert({ kid: 'k2', alg: 'EdDSA', publicJwk: '{}', privateJwk: '{}', active: true, createdAt: new Date(at.getTime() + 1) });
      const all = await keys.list();
      t.same(all.filter((k) => k.active).map((k) => k.kid), ['k2']);
      t.ok(await keys.retire('k1', at));
      t.same((await keys.listUsable()).map((k) => k.kid), ['k2']);
    });
  });
}
