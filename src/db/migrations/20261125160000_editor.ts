// Frozen once landed. The newsroom's article editor:
// - articles.revision: a counter bumped by every save, so a stale autosave (or a second tab) cannot
//   overwrite a newer save: each write is `UPDATE … WHERE id = ? AND revision = ?`.
// - articles.created_by_user_id: the newsroom user who started the article ("own" articles for the
//   contributor and author roles), null for seeded or imported articles.
// - article_revisions gains the other edited fields, its article revision number and what happened
//   (`event`: saved, autosaved, published, scheduled, unpublished, restored), so history, diffs and
//   restores see the whole article, and a publish by the worker is one visible row.
// Columns are added only when missing, so running this twice changes nothing.
import { type Kysely, PostgresAdapter, sql } from 'kysely';

async function hasColumn(db: Kysely<unknown>, table: string, column: string): Promise<boolean> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ${table} AND column_name = ${column}`.execute(db);
    return Number(result.rows[0]?.n ?? 0) > 0;
  }
  const result = await sql<{ n: number }>`SELECT count(*) AS n FROM pragma_table_info(${table}) WHERE name = ${column}`.execute(db);
  return Number(result.rows[0]?.n ?? 0) > 0;
}

type ColumnType = 'text' | 'integer';
const articleColumns: [string, ColumnType, (number | string)?][] = [
  ['revision', 'integer', 1],
  ['created_by_user_id', 'integer'],
];
const revisionColumns: [string, ColumnType, (number | string)?][] = [
  ['revision', 'integer', 0],
  ['event', 'text', 'saved'],
  ['slug', 'text'],
  ['status', 'text'],
  ['seo_title', 'text'],
  ['seo_description', 'text'],
  ['correction_note', 'text'],
  ['video_caption', 'text'],
  ['feature_image_id', 'integer'],
  ['video_id', 'integer'],
  ['scheduled_at', 'text'],
  // JSON arrays of ids, in byline / tag order.
  ['tag_ids', 'text'],
  ['author_ids', 'text'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [table, columns] of [['articles', articleColumns], ['article_revisions', revisionColumns]] as const) {
    for (const [name, type, fallback] of columns) {
      if (await hasColumn(db, table, name)) continue;
      await db.schema
        .alterTable(table)
        .addColumn(name, type, (c) => (fallback === undefined ? c : c.notNull().defaultTo(fallback)))
        .execute();
    }
  }
  await db.schema.createIndex('articles_scheduled').ifNotExists().on('articles').columns(['status', 'scheduled_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('articles_scheduled').ifExists().execute();
  for (const [table, columns] of [['articles', articleColumns], ['article_revisions', revisionColumns]] as const) {
    for (const [name] of columns) {
      if (await hasColumn(db, table, name)) await db.schema.alterTable(table).dropColumn(name).execute();
    }
  }
}
