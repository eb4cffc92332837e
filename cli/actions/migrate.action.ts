// authctl migrate: applies pending migrations (the Helm chart's migration Job runs this). It opens the
// database directly: core itself needs the schema (signing keys) before it can start.
import type { Config } from '../../config/config.schema.js';
import { openDatabase } from '../../core/db/database.js';
import { migrate, pendingMigrations } from '../../core/db/migrator.js';
import { message, type Output } from '../output.js';

export async function runMigrations(config: Config, statusOnly: boolean): Promise<Output> {
  const db = openDatabase({ url: config.database.url, poolMax: 2 });
  try {
    if (statusOnly) {
      const pending = await pendingMigrations(db);
      return message(pending.length ? `pending migrations:\n${pending.map((m) => `  ${m}`).join('\n')}` : 'database is up to date', { pending });
    }
    const { applied } = await migrate(db);
    return message(applied.length ? `applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}`).join('\n')}` : 'database is up to date', { applied });
  } finally {
    await db.close();
  }
}
