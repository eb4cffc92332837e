// Applies pending umzug migrations; on PostgreSQL under an advisory lock so replicas and the
// migration Job can start at once without racing (SQLite has a single writer already).
import { Umzug, SequelizeStorage } from 'umzug';
import type { Database } from './database.js';
import { MIGRATIONS } from './migrations/index.js';
import { dbCall } from './translate-error.js';

const MIGRATION_LOCK_KEY = 724_011_001; // arbitrary, fixed: pg_advisory_lock key for migrations

interface PgConnection {
  query(sql: string, params: unknown[]): Promise<unknown>;
}

export interface MigrationResult {
  applied: string[];
  pending: string[];
}

function buildUmzug(db: Database) {
  return new Umzug({
    migrations: MIGRATIONS.map(([name, module]) => ({
      name,
      up: async () => module.up({ context: db.sequelize.getQueryInterface() }),
      down: async () => module.down({ context: db.sequelize.getQueryInterface() }),
    })),
    context: db.sequelize.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize: db.sequelize, tableName: 'schema_migrations' }),
    logger: undefined,
  });
}

export async function migrate(db: Database): Promise<MigrationResult> {
  return dbCall('Migration', async () => {
    const umzug = buildUmzug(db);
    if (db.dialect !== 'postgres') {
      const applied = await umzug.up();
      return { applied: applied.map((m) => m.name), pending: [] };
    }
    // Session-level advisory lock held on one dedicated pooled connection for the whole run.
    const cm = db.sequelize.connectionManager as unknown as {
      getConnection(options: { type: string }): Promise<PgConnection>;
      releaseConnection(connection: PgConnection): Promise<void>;
    };
    const conn = await cm.getConnection({ type: 'write' });
    try {
      await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      try {
        const applied = await umzug.up();
        return { applied: applied.map((m) => m.name), pending: [] };
      } finally {
        await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      }
    } finally {
      await cm.releaseConnection(conn);
    }
  });
}

export async function pendingMigrations(db: Database): Promise<string[]> {
  return dbCall('Migration', async () => (await buildUmzug(db).pending()).map((m) => m.name));
}
