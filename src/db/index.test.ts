import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../test/helpers/databases.ts';
import { eventually } from '../../test/helpers/eventually.ts';

describeEachDatabase('the database connection', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase(dialect);
  });
  after(() => t.drop());

  if (dialect === 'postgres') {
    it('survives PostgreSQL closing its idle connections (a restart, a failover) and goes on answering', async (ctx) => {
      const warn = ctx.mock.method(console, 'warn', () => {});
      await sql`SELECT 1`.execute(t.db); // leaves an idle connection in the pool
      const admin = new pg.Client({ connectionString: t.url });
      await admin.connect();
      const killed = await admin.query<{ n: number }>(
        'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      await admin.end();
      assert.ok((killed.rows[0]?.n ?? 0) >= 1, 'an idle connection was closed by the server');
      // The pool hears of it (an 'error' event, which would end the process without the listener that warns).
      await eventually(
        () => warn.mock.calls.some((call) => /PostgreSQL closed an idle connection/.test(String(call.arguments[0]))),
        'the pool to report the closed connection',
        5000,
      );
      const row = await sql<{ n: number }>`SELECT 41 + 1 AS n`.execute(t.db);
      assert.equal(Number(row.rows[0]?.n), 42);
    });
  } else {
    it('opens the SQLite file in WAL mode, so readers run beside a writer', async () => {
      const mode = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(t.db);
      assert.equal(mode.rows[0]?.journal_mode, 'wal');
    });
  }
});
