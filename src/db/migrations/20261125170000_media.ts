// Frozen once landed. Media in the newsroom: who uploaded a file (deleting someone else's needs an editor),
// the responsive sizes made from an image, and the queue of "cut a snippet" jobs the worker runs.
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const addId = (builder: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    isPostgres ? builder.addColumn('id', 'serial', (c) => c.primaryKey()) : builder.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  // Idempotent on both dialects: SQLite has no ADD COLUMN IF NOT EXISTS, so look first.
  const mediaColumns = (await db.introspection.getTables()).find((t) => t.name === 'media')?.columns.map((c) => c.name) ?? [];
  if (!mediaColumns.includes('uploaded_by')) {
    await db.schema
      .alterTable('media')
      .addColumn('uploaded_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
      .execute();
  }

  await db.schema
    .createTable('media_variants')
    .ifNotExists()
    .$call(addId)
    .addColumn('media_id', 'integer', (c) => c.notNull().references('media.id').onDelete('cascade'))
    .addColumn('file_name', 'text', (c) => c.notNull()) // fingerprinted, like media.file_name
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('byte_size', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('media_variants_media').ifNotExists().on('media_variants').column('media_id').execute();

  await db.schema
    .createTable('video_clip_jobs')
    .ifNotExists()
    .$call(addId)
    .addColumn('source_media_id', 'integer', (c) => c.notNull().references('media.id').onDelete('cascade'))
    .addColumn('start_seconds', 'real', (c) => c.notNull())
    .addColumn('end_seconds', 'real', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued')) // queued | running | done | failed
    .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0)) // 0–100
    .addColumn('error', 'text')
    .addColumn('result_media_id', 'integer', (c) => c.references('media.id').onDelete('set null'))
    .addColumn('requested_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('claimed_by', 'text') // worker id holding the lease
    .addColumn('heartbeat_at', 'text') // renewed while running; an old one means the worker died
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('video_clip_jobs_status').ifNotExists().on('video_clip_jobs').columns(['status', 'id']).execute();
  await db.schema.createIndex('video_clip_jobs_source').ifNotExists().on('video_clip_jobs').column('source_media_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('video_clip_jobs').ifExists().execute();
  await db.schema.dropTable('media_variants').ifExists().execute();
  // SQLite cannot drop a column that holds a foreign key; there it stays (up() adds it only when missing).
  if (db.getExecutor().adapter instanceof PostgresAdapter) await db.schema.alterTable('media').dropColumn('uploaded_by').execute();
}
