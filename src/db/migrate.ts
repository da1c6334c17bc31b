import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FileMigrationProvider, Migrator, type MigrationResultSet } from 'kysely';
import type { Config } from '../config.ts';
import { createDb, type Db } from './index.ts';

const migrationFolder = path.join(import.meta.dirname, 'migrations');

/**
 * 20261125160000, 170000 and 180000 landed after 20261125190000 had shipped, so a database made in between
 * has run a later name than three it still needs: Kysely then refuses ("corrupted migrations") unless told
 * to run the missing ones. Each migration is idempotent and stands alone, so the order does not matter.
 */
const newMigrator = (db: Db) =>
  new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder }),
    allowUnorderedMigrations: true,
  });

/** Brings the schema to the newest migration. Safe to run on every start and from several processes. */
export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
  const migrator = newMigrator(db);
  const result = await migrator.migrateToLatest();
  if (result.error)
    throw result.error instanceof Error ? result.error : new Error('migration failed', { cause: result.error });
  return result;
}

/** Opens the configured database, migrates it, runs `work`, and always closes it: what each CLI command needs. */
export async function withMigratedDb<T>(database: Config['database'], work: (db: Db) => Promise<T>): Promise<T> {
  const { db } = createDb(database);
  try {
    await migrateToLatest(db);
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** Names of the migrations this code has that the database has not run yet (readiness: /readyz). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const migrator = newMigrator(db);
  return (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}
