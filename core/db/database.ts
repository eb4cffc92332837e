// Opens the Sequelize connection for postgres:// or sqlite:PATH URLs and registers every model.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Sequelize, type Options } from 'sequelize';
import { registerModels, type Models } from './models/index.js';

export interface Database {
  readonly sequelize: Sequelize;
  readonly models: Models;
  readonly dialect: 'postgres' | 'sqlite';
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

interface SqliteConnection {
  run(sql: string, cb: (err: Error | null) => void): void;
}

export interface DatabaseOptions {
  url: string;
  poolMax?: number;
  logSql?: (sql: string) => void;
}

export function sqlitePath(url: string): string {
  const raw = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return raw === ':memory:' ? raw : resolve(raw);
}

export function openDatabase(options: DatabaseOptions): Database {
  const common: Options = {
    logging: options.logSql ?? false,
    define: { timestamps: false, underscored: true, freezeTableName: true },
  };
  let sequelize: Sequelize;
  let dialect: 'postgres' | 'sqlite';
  if (options.url.startsWith('sqlite:')) {
    dialect = 'sqlite';
    const storage = sqlitePath(options.url);
    if (storage !== ':memory:') mkdirSync(dirname(storage), { recursive: true });
    sequelize = new Sequelize({
      ...common,
      dialect: 'sqlite',
      storage,
      pool: { max: 1, min: 0, idle: 60_000 },
      retry: { max: 10, match: [/SQLITE_BUSY/] },
    });
    // WAL lets the CLI read while the server writes; busy_timeout waits instead of failing (SQLITE_BUSY).
    // Sequelize's SQLite connection manager never runs afterConnect hooks and opens a fresh connection
    // for every transaction, so the pragmas are applied here, once per new connection (busy_timeout
    // first: switching to WAL itself needs the lock).
    const cm = sequelize.connectionManager as unknown as { getConnection(options?: unknown): Promise<SqliteConnection> };
    const getConnection = cm.getConnection.bind(cm);
    const configured = new WeakSet<object>();
    cm.getConnection = async (connectionOptions?: unknown) => {
      const connection = await getConnection(connectionOptions);
      if (!configured.has(connection)) {
        configured.add(connection);
        for (const pragma of ['PRAGMA busy_timeout=10000', 'PRAGMA journal_mode=WAL', 'PRAGMA foreign_keys=ON']) {
          await new Promise<void>((res, rej) => connection.run(pragma, (err) => (err ? rej(err) : res())));
        }
      }
      return connection;
    };
  } else {
    dialect = 'postgres';
    sequelize = new Sequelize(options.url, {
      ...common,
      dialect: 'postgres',
      pool: { max: options.poolMax ?? 10, min: 0, idle: 10_000, acquire: 10_000 },
      dialectOptions: { connectionTimeoutMillis: 5_000, statement_timeout: 15_000 },
    });
  }
  const models = registerModels(sequelize);
  return {
    sequelize,
    models,
    dialect,
    async ping() {
      try {
        await sequelize.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await sequelize.close();
    },
  };
}
