// Frozen once landed. Full-text search of articles. The one place the dialects truly differ:
// - SQLite: an FTS5 external-content table over `articles` (it stores only the index, not a second copy of
//   the text) holding PUBLISHED articles only, so that counting and ranking never have to visit `articles`
//   to filter on status (at 100,000 articles that join cost more than the search itself). Triggers keep it
//   in step: a row leaves the index with the values it was indexed with, and enters it when published.
//   Because of that filter, never run FTS5's 'rebuild' command on it (it would index drafts): re-fill it
//   with 'delete-all' and the INSERT … SELECT below. `unicode61 remove_diacritics 2` folds case and accents
//   ("Hérzog" finds "Herzog"); prefix indexes of 2 and 3 characters keep short prefix searches ("the*",
//   which also means "their", "there", "theatre"…) from merging thousands of terms.
// - PostgreSQL: a stored generated `tsvector` column (title weight A, standfirst B, body C) with a GIN index;
//   PostgreSQL fills it for existing rows when the column is added. The `simple` configuration (no stemming,
//   no stop words) matches the SQLite tokenizer, so both databases find the same articles for a query.
// PostgreSQL indexes every article and the query filters on `status = 'published'`.
import { type Kysely, PostgresAdapter, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`ALTER TABLE articles ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('simple'::regconfig, coalesce(standfirst, '')), 'B') ||
        setweight(to_tsvector('simple'::regconfig, coalesce(body_markdown, '')), 'C')
      ) STORED`.execute(db);
    await sql`CREATE INDEX IF NOT EXISTS articles_search_vector ON articles USING gin (search_vector)`.execute(db);
    return;
  }
  const existed = await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_master WHERE name = 'articles_fts'`.execute(db);
  await sql`CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
      title, standfirst, body_markdown,
      content='articles', content_rowid='id',
      tokenize='unicode61 remove_diacritics 2',
      prefix='2 3'
    )`.execute(db);
  // External content: the index must be told the old values to remove them, exactly as they were indexed.
  await sql`CREATE TRIGGER IF NOT EXISTS articles_fts_after_insert AFTER INSERT ON articles WHEN new.status = 'published' BEGIN
      INSERT INTO articles_fts(rowid, title, standfirst, body_markdown) VALUES (new.id, new.title, new.standfirst, new.body_markdown);
    END`.execute(db);
  await sql`CREATE TRIGGER IF NOT EXISTS articles_fts_after_delete AFTER DELETE ON articles WHEN old.status = 'published' BEGIN
      INSERT INTO articles_fts(articles_fts, rowid, title, standfirst, body_markdown) VALUES ('delete', old.id, old.title, old.standfirst, old.body_markdown);
    END`.execute(db);
  // One trigger, its two steps in order (SQLite does not promise an order between separate triggers).
  await sql`CREATE TRIGGER IF NOT EXISTS articles_fts_after_update AFTER UPDATE OF title, standfirst, body_markdown, status ON articles BEGIN
      INSERT INTO articles_fts(articles_fts, rowid, title, standfirst, body_markdown)
        SELECT 'delete', old.id, old.title, old.standfirst, old.body_markdown WHERE old.status = 'published';
      INSERT INTO articles_fts(rowid, title, standfirst, body_markdown)
        SELECT new.id, new.title, new.standfirst, new.body_markdown WHERE new.status = 'published';
    END`.execute(db);
  // Backfill only when the table is new, so that a re-run does not index the articles twice.
  if (Number(existed.rows[0]?.n ?? 0) === 0) {
    await sql`INSERT INTO articles_fts(rowid, title, standfirst, body_markdown)
      SELECT id, title, standfirst, body_markdown FROM articles WHERE status = 'published'`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`DROP INDEX IF EXISTS articles_search_vector`.execute(db);
    await sql`ALTER TABLE articles DROP COLUMN IF EXISTS search_vector`.execute(db);
    return;
  }
  for (const trigger of ['articles_fts_after_insert', 'articles_fts_after_delete', 'articles_fts_after_update']) {
    await sql`DROP TRIGGER IF EXISTS ${sql.id(trigger)}`.execute(db);
  }
  await sql`DROP TABLE IF EXISTS articles_fts`.execute(db);
}
