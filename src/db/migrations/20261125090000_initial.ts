// Frozen once landed. The content model: authors, tags, media, articles with their revisions and old slugs,
// legal documents with versions, and site settings. Timestamps are ISO-8601 UTC text in both databases, so
// the same migration serves SQLite and PostgreSQL and lexical order is time order.
import { type Kysely, PostgresAdapter } from 'kysely';

function idType(db: Kysely<unknown>): 'serial' | 'integer' {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'serial' : 'integer';
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const id = idType(db);
  const isSqlite = id === 'integer';
  const addId = (builder: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    builder.addColumn('id', id, (c) => (isSqlite ? c.primaryKey().autoIncrement() : c.primaryKey()));

  await db.schema
    .createTable('settings')
    .ifNotExists()
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('media')
    .ifNotExists()
    .$call(addId)
    .addColumn('kind', 'text', (c) => c.notNull()) // image | video | captions
    .addColumn('file_name', 'text', (c) => c.notNull().unique()) // fingerprinted: <name>.<sha256 prefix>.<ext>
    .addColumn('original_name', 'text', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('byte_size', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('duration_seconds', 'real')
    .addColumn('alt_text', 'text')
    .addColumn('poster_media_id', 'integer', (c) => c.references('media.id').onDelete('set null'))
    .addColumn('captions_media_id', 'integer', (c) => c.references('media.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('authors')
    .ifNotExists()
    .$call(addId)
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('bio', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('email', 'text')
    .addColumn('avatar_media_id', 'integer', (c) => c.references('media.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('tags')
    .ifNotExists()
    .$call(addId)
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('articles')
    .ifNotExists()
    .$call(addId)
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('standfirst', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('body_markdown', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('draft')) // draft | scheduled | published | unpublished
    .addColumn('feature_image_id', 'integer', (c) => c.references('media.id').onDelete('set null'))
    .addColumn('video_id', 'integer', (c) => c.references('media.id').onDelete('set null'))
    .addColumn('video_caption', 'text')
    .addColumn('seo_title', 'text')
    .addColumn('seo_description', 'text')
    .addColumn('correction_note', 'text')
    .addColumn('scheduled_at', 'text')
    .addColumn('published_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('articles_status_published_at')
    .ifNotExists()
    .on('articles')
    .columns(['status', 'published_at'])
    .execute();

  await db.schema
    .createTable('article_authors')
    .ifNotExists()
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .addColumn('author_id', 'integer', (c) => c.notNull().references('authors.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('article_authors_pk', ['article_id', 'author_id'])
    .execute();
  await db.schema.createIndex('article_authors_author').ifNotExists().on('article_authors').column('author_id').execute();

  await db.schema
    .createTable('article_tags')
    .ifNotExists()
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .addColumn('tag_id', 'integer', (c) => c.notNull().references('tags.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('article_tags_pk', ['article_id', 'tag_id'])
    .execute();
  await db.schema.createIndex('article_tags_tag').ifNotExists().on('article_tags').column('tag_id').execute();

  await db.schema
    .createTable('article_revisions')
    .ifNotExists()
    .$call(addId)
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('standfirst', 'text', (c) => c.notNull())
    .addColumn('body_markdown', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('article_revisions_article').ifNotExists().on('article_revisions').column('article_id').execute();

  await db.schema
    .createTable('article_slug_redirects')
    .ifNotExists()
    .addColumn('old_slug', 'text', (c) => c.primaryKey())
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('legal_documents')
    .ifNotExists()
    .$call(addId)
    .addColumn('kind', 'text', (c) => c.notNull()) // terms | privacy
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body_markdown', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull()) // sha256 of title + body: what a consent record cites
    .addColumn('published_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('legal_documents_kind_version', ['kind', 'version'])
    .execute();

}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'legal_documents',
    'article_slug_redirects',
    'article_revisions',
    'article_tags',
    'article_authors',
    'articles',
    'tags',
    'authors',
    'media',
    'settings',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
