import { inChunks } from '../../db/chunks.ts';
import type { Db } from '../../db/index.ts';
import type { RenderedBody } from './articles.body.ts';
import type { ArticleRow, ArticlesTable, AuthorRow, TagRow } from './articles.table.ts';

/** Narrows a listing of published articles to one tag or one author. */
export interface PublishedFilter {
  tagId?: number;
  authorId?: number;
  /** Only articles published at or after this ISO time (the news sitemap's two days). */
  since?: string;
}

/**
 * Every column of an article row, named: `articles.*` on PostgreSQL also carries the search index's
 * `search_vector` (a few kilobytes of text per article), which readers' pages never use but would transfer
 * and parse on every cold render.
 */
export const articleColumns = [
  'articles.id',
  'articles.slug',
  'articles.title',
  'articles.standfirst',
  'articles.body_markdown',
  'articles.body_html',
  'articles.body_text',
  'articles.status',
  'articles.feature_image_id',
  'articles.video_id',
  'articles.video_caption',
  'articles.seo_title',
  'articles.seo_description',
  'articles.correction_note',
  'articles.scheduled_at',
  'articles.published_at',
  'articles.updated_at',
  'articles.created_at',
  'articles.revision',
  'articles.created_by_user_id',
] as const;
// A column added to the table must be added above: this fails to compile until it is.
const everyColumnNamed: Exclude<
  keyof ArticlesTable,
  (typeof articleColumns)[number] extends `articles.${infer C}` ? C : never
> extends never
  ? true
  : false = true;
void everyColumnNamed;

function publishedQuery(db: Db, filter: PublishedFilter) {
  let query = db
    .selectFrom('articles')
    .where('articles.status', '=', 'published')
    .where('articles.published_at', 'is not', null);
  if (filter.tagId !== undefined) {
    const tagId = filter.tagId;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('article_tags')
          .select('article_tags.article_id')
          .whereRef('article_tags.article_id', '=', 'articles.id')
          .where('article_tags.tag_id', '=', tagId),
      ),
    );
  }
  if (filter.authorId !== undefined) {
    const authorId = filter.authorId;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('article_authors')
          .select('article_authors.article_id')
          .whereRef('article_authors.article_id', '=', 'articles.id')
          .where('article_authors.author_id', '=', authorId),
      ),
    );
  }
  if (filter.since !== undefined) query = query.where('articles.published_at', '>=', filter.since);
  return query;
}

/**
 * Published articles, newest first, or oldest first (the numbered sitemaps: a new article then changes only
 * the last one).
 */
export async function listPublishedArticles(
  db: Db,
  filter: PublishedFilter,
  limit: number,
  offset: number,
  order: 'newest' | 'oldest' = 'newest',
): Promise<ArticleRow[]> {
  const direction = order === 'newest' ? 'desc' : 'asc';
  return publishedQuery(db, filter)
    .select(articleColumns)
    .orderBy('articles.published_at', direction)
    .orderBy('articles.id', direction)
    .limit(limit)
    .offset(offset)
    .execute();
}

/**
 * The ids of every published article in a listing, newest first (published_at, then id): what the archive
 * index (articles.archive.ts) keeps, so that any page of a listing is a primary-key lookup of twelve rows.
 */
export async function listPublishedIds(db: Db, filter: Pick<PublishedFilter, 'tagId' | 'authorId'>): Promise<number[]> {
  const rows = await publishedQuery(db, filter)
    .select('articles.id')
    .orderBy('articles.published_at', 'desc')
    .orderBy('articles.id', 'desc')
    .execute();
  return rows.map((row) => row.id);
}

/** Published articles by id, in no particular order; an id no longer published is left out. */
export async function findPublishedArticlesByIds(db: Db, ids: readonly number[]): Promise<ArticleRow[]> {
  if (ids.length === 0) return [];
  // By primary key alone: with the status condition in SQL, SQLite walks the status index through every
  // published article instead (7 ms for twelve rows of 40,000, against 0.1 ms), so it is checked here.
  const rows = await db
    .selectFrom('articles')
    .select(articleColumns)
    .where('articles.id', 'in', [...ids])
    .execute();
  return rows.filter((row) => row.status === 'published' && row.published_at !== null);
}

export async function countPublishedArticles(db: Db, filter: PublishedFilter): Promise<number> {
  const row = await publishedQuery(db, filter)
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function findPublishedArticleBySlug(db: Db, slug: string): Promise<ArticleRow | undefined> {
  return publishedQuery(db, {}).select(articleColumns).where('articles.slug', '=', slug).executeTakeFirst();
}

/**
 * Stores the rendered body of an article written before bodies were rendered at save, unless it has been
 * saved since (that save stored its own rendering).
 */
export async function storeRenderedBody(db: Db, id: number, revision: number, body: RenderedBody): Promise<void> {
  await db
    .updateTable('articles')
    .set(body)
    .where('id', '=', id)
    .where('revision', '=', revision)
    .where('body_html', 'is', null)
    .execute();
}

/** The current slug of an article that was published under `oldSlug`, for a 301. */
export async function findRedirectedSlug(db: Db, oldSlug: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('article_slug_redirects')
    .innerJoin('articles', 'articles.id', 'article_slug_redirects.article_id')
    .select('articles.slug')
    .where('article_slug_redirects.old_slug', '=', oldSlug)
    .where('articles.status', '=', 'published')
    .executeTakeFirst();
  return row?.slug;
}

/** Authors of each article, in byline order. */
export async function findAuthorsOfArticles(db: Db, articleIds: readonly number[]): Promise<Map<number, AuthorRow[]>> {
  const byArticle = new Map<number, AuthorRow[]>();
  if (articleIds.length === 0) return byArticle;
  const rows = await inChunks(articleIds, (ids) =>
    db
      .selectFrom('article_authors')
      .innerJoin('authors', 'authors.id', 'article_authors.author_id')
      .selectAll('authors')
      .select('article_authors.article_id')
      .where('article_authors.article_id', 'in', ids)
      .orderBy('article_authors.position')
      .execute(),
  );
  for (const { article_id, ...author } of rows)
    byArticle.set(article_id, [...(byArticle.get(article_id) ?? []), author]);
  return byArticle;
}

/** Tags of each article, in the order the editor gave them (the first is the article's kicker). */
export async function findTagsOfArticles(db: Db, articleIds: readonly number[]): Promise<Map<number, TagRow[]>> {
  const byArticle = new Map<number, TagRow[]>();
  if (articleIds.length === 0) return byArticle;
  const rows = await inChunks(articleIds, (ids) =>
    db
      .selectFrom('article_tags')
      .innerJoin('tags', 'tags.id', 'article_tags.tag_id')
      .selectAll('tags')
      .select('article_tags.article_id')
      .where('article_tags.article_id', 'in', ids)
      .orderBy('article_tags.position')
      .execute(),
  );
  for (const { article_id, ...tag } of rows) byArticle.set(article_id, [...(byArticle.get(article_id) ?? []), tag]);
  return byArticle;
}

export async function findTagBySlug(db: Db, slug: string): Promise<TagRow | undefined> {
  return db.selectFrom('tags').selectAll().where('slug', '=', slug).executeTakeFirst();
}

export async function findAuthorBySlug(db: Db, slug: string): Promise<AuthorRow | undefined> {
  return db.selectFrom('authors').selectAll().where('slug', '=', slug).executeTakeFirst();
}

/** Tags that have at least one published article, most used first (the masthead's sections). */
export async function listTagsInUse(db: Db): Promise<(TagRow & { articleCount: number })[]> {
  const rows = await db
    .selectFrom('tags')
    .innerJoin('article_tags', 'article_tags.tag_id', 'tags.id')
    .innerJoin('articles', 'articles.id', 'article_tags.article_id')
    .where('articles.status', '=', 'published')
    .selectAll('tags')
    .select((eb) => eb.fn.countAll<number>().as('articleCount'))
    .groupBy(['tags.id', 'tags.slug', 'tags.name', 'tags.description', 'tags.created_at'])
    .orderBy('articleCount', 'desc')
    .orderBy('tags.name')
    .execute();
  return rows.map((row) => ({ ...row, articleCount: Number(row.articleCount) }));
}

/** Authors with at least one published article. */
export async function listAuthorsWithArticles(db: Db): Promise<AuthorRow[]> {
  return db
    .selectFrom('authors')
    .selectAll()
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('article_authors')
          .innerJoin('articles', 'articles.id', 'article_authors.article_id')
          .select('article_authors.article_id')
          .whereRef('article_authors.author_id', '=', 'authors.id')
          .where('articles.status', '=', 'published'),
      ),
    )
    .orderBy('name')
    .execute();
}

/** True when the database holds any article at all (seeding never touches such a database). */
export async function hasAnyContent(db: Db): Promise<boolean> {
  const row = await db.selectFrom('articles').select('id').limit(1).executeTakeFirst();
  return row !== undefined;
}
