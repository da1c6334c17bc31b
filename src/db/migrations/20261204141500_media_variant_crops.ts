// Frozen once landed. Image crops for structured data: Google asks for an article's image in 16:9, 4:3 and
// 1:1, at least 1,200 px wide. They are rows of `media_variants` with `crop` set to the aspect ratio
// ('16:9', '4:3', '1:1'); the responsive sizes of the whole image keep `crop` null.
import type { Kysely } from 'kysely';

async function hasCropColumn(db: Kysely<unknown>): Promise<boolean> {
  const table = (await db.introspection.getTables()).find((t) => t.name === 'media_variants');
  return table?.columns.some((c) => c.name === 'crop') ?? false;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  // Idempotent on both dialects: SQLite has no ADD COLUMN IF NOT EXISTS, so look first.
  if (!(await hasCropColumn(db))) await db.schema.alterTable('media_variants').addColumn('crop', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (await hasCropColumn(db)) await db.schema.alterTable('media_variants').dropColumn('crop').execute();
}
