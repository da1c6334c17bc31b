import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.ts';
import type { Database } from './database.ts';
import { openSqlite } from './sqlite-driver.ts';

export type Db = Kysely<Database>;
export type { Database } from './database.ts';
export type Dialect = 'sqlite' | 'postgres';

/** Opens the database that DATABASE_URL names: the embedded SQLite file by default, or PostgreSQL. */
export function createDb(database: Config['database']): { db: Db; dialect: Dialect } {
  if (database.kind === 'sqlite') {
    mkdirSync(path.dirname(database.file), { recursive: true });
    const { database: sqlite } = openSqlite(database.file);
    return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), dialect: 'sqlite' };
  }
  const pool = new pg.Pool({ connectionString: database.url, max: 10 });
  // An idle connection that PostgreSQL closes (a restart, a failover, an administrator) is dropped by the
  // pool, which opens a new one when next needed. Without a listener the 'error' event would end the process.
  pool.on('error', (error) =>
    console.warn(`PostgreSQL closed an idle connection (${error.message}); a new one will be opened when needed.`),
  );
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
}

/** Runs `work` in a transaction, joining the caller's if `db` is one already. */
export async function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}
