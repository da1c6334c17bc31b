// Frozen once landed. Newsroom CSV imports, kept in the database rather than in the memory of the process that
// took the upload: the newsroom shows an import after a restart, and one whose process died mid-way (its
// committed batches stay) as interrupted. `claimed_by` is that process (hostname:pid:random), `heartbeat_at`
// its last progress write.
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('subscriber_imports')
    .ifNotExists()
    .$call((b) => (isPostgres ? b.addColumn('id', 'serial', (c) => c.primaryKey()) : b.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())))
    .addColumn('status', 'text', (c) => c.notNull()) // running | done | failed
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('started_by', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('bytes_read', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('summary', 'text') // JSON: imported, confirmed, known, suppressed, bad (so far, while running)
    .addColumn('bad_rows', 'text', (c) => c.notNull().defaultTo('[]')) // JSON: the first 1,000 bad rows
    .addColumn('error', 'text')
    .addColumn('claimed_by', 'text')
    .addColumn('heartbeat_at', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('subscriber_imports').ifExists().execute();
}
