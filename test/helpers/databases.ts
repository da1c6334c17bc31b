import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createDb, type Db, type Dialect } from '../../src/db/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

/** The PostgreSQL server tests use; CI machines have one at 127.0.0.1:5432 with trust auth. */
const postgresAdminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  db: Db;
  dialect: Dialect;
  dataDir: string;
  /** DATABASE_URL for a `gazette` child process on this same database. */
  url: string;
  drop: () => Promise<void>;
}

let postgresReachable: Promise<boolean> | undefined;

async function canReachPostgres(): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/** A fresh, migrated database of the given dialect: a temp SQLite file, or a new PostgreSQL database. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gazette-db-'));
  if (dialect === 'sqlite') {
    const file = path.join(dataDir, 'test.sqlite');
    const { db } = createDb({ kind: 'sqlite', file });
    await migrateToLatest(db);
    return {
      db,
      dialect,
      dataDir,
      url: `sqlite:${file}`,
      drop: async () => (await db.destroy(), await rm(dataDir, { recursive: true, force: true })),
    };
  }
  const empty = await createEmptyPostgresDatabase();
  const { db } = createDb({ kind: 'postgres', url: empty.url });
  await migrateToLatest(db);
  return {
    db,
    dialect,
    dataDir,
    url: empty.url,
    drop: async () => {
      await db.destroy();
      await empty.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The `skip` option of a scale test (thousands of rows, a flood of requests): skipped by `npm run test:fast`
 * (GAZETTE_FAST=1, see scripts/test-fast.ts), run by `npm test`.
 */
export const skipInFastRun: string | false =
  process.env.GAZETTE_FAST === '1' ? 'a scale test: npm test runs it, test:fast does not' : false;

/** A new, empty PostgreSQL database (no migrations run): its URL, and how to drop it. */
export async function createEmptyPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `gazette_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const cleanup = new pg.Client({ connectionString: postgresAdminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/**
 * Declares `suite` once per database: SQLite always, PostgreSQL when reachable (see `describeOnPostgres`).
 */
export function describeEachDatabase(
  name: string,
  suite: (dialect: Dialect) => void,
  options: { skip?: string | false } = {},
): void {
  describe(`${name} [sqlite]`, options, () => suite('sqlite'));
  describeOnPostgres(`${name} [postgres]`, () => suite('postgres'), options);
}

/**
 * A suite that needs the test PostgreSQL server. Without one it is reported as skipped by the test runner
 * (counted in its `skipped` total, not as a pass), unless GAZETTE_REQUIRE_POSTGRES=1 (set by .ci/run) makes
 * that a failure.
 */
export function describeOnPostgres(name: string, suite: () => void, options: { skip?: string | false } = {}): void {
  describe(name, options, async () => {
    postgresReachable ??= canReachPostgres();
    if (await postgresReachable) return suite();
    if (process.env.GAZETTE_REQUIRE_POSTGRES === '1')
      throw new Error(`PostgreSQL is required (GAZETTE_REQUIRE_POSTGRES=1) but ${postgresAdminUrl} is not reachable`);
    // Reachability is only known once the suite runs, so the skip is a test of its own inside it.
    it('on PostgreSQL', { skip: `PostgreSQL at ${postgresAdminUrl} is not reachable` }, () => {});
  });
}
