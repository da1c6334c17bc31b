// Frozen once landed. An article's body rendered once, when it is saved, instead of at every cold page render:
// `body_html` is the sanitised HTML readers get and `body_text` its plain text (descriptions, reading time).
// Both stay null for rows written before this migration (a migration imports nothing from the app, so it
// cannot render Markdown): the articles module renders and stores such a body the first time it is read.
// A later change to the Markdown rules can set them back to null to have every body rendered again.
import type { Kysely } from 'kysely';

async function missingColumns(db: Kysely<unknown>): Promise<string[]> {
  const table = (await db.introspection.getTables()).find((t) => t.name === 'articles');
  const have = new Set(table?.columns.map((c) => c.name));
  return ['body_html', 'body_text'].filter((name) => !have.has(name));
}

export async function up(db: Kysely<unknown>): Promise<void> {
  // Idempotent on both dialects: SQLite has no ADD COLUMN IF NOT EXISTS, so look first.
  for (const name of await missingColumns(db)) await db.schema.alterTable('articles').addColumn(name, 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const missing = new Set(await missingColumns(db));
  for (const name of ['body_html', 'body_text']) if (!missing.has(name)) await db.schema.alterTable('articles').dropColumn(name).execute();
}
