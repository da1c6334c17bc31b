// Frozen once landed. One row counting changes to what readers see (publish, edit, unpublish, legal and
// settings edits), bumped by `contentChanged()`: every web process compares it with the version its page
// cache was filled at (PostgreSQL also sends NOTIFY), so all processes drop their cached pages together.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('content_version')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey()) // always 1
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('changed_at', 'text', (c) => c.notNull())
    .execute();
  // The one row, so that a bump is an UPDATE (no insert race between processes).
  await sql`INSERT INTO content_version (id, version, changed_at) VALUES (1, 0, ${new Date().toISOString()}) ON CONFLICT (id) DO NOTHING`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('content_version').ifExists().execute();
}
