import { sql } from 'kysely';
import type { Db } from '../../db/index.ts';
import type { MediaKind } from '../media/index.ts';
import type {
  ArticleRow,
  ArticleStatus,
  ArticlesTable,
  AuthorRow,
  RevisionEvent,
  RevisionRow,
  TagRow,
} from './articles.table.ts';

// The newsroom's queries on articles: listing every status, writing with a revision check, history, and the
// scheduled publisher's claim. The reader's queries stay in articles.repository.ts.

export type NewsroomArticleRow = Pick<
  ArticleRow,
  'id' | 'slug' | 'title' | 'status' | 'updated_at' | 'scheduled_at' | 'published_at' | 'revision'
>;

/** Articles for the newsroom list, most recently changed first. */
export async function listNewsroomArticles(
  db: Db,
  filter: { status?: ArticleStatus | undefined },
  limit = 200,
): Promise<NewsroomArticleRow[]> {
  let query = db
    .selectFrom('articles')
    .select(['id', 'slug', 'title', 'status', 'updated_at', 'scheduled_at', 'published_at', 'revision']);
  if (filter.status) query = query.where('status', '=', filter.status);
  return query.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function countArticlesByStatus(db: Db): Promise<Map<ArticleStatus, number>> {
  const rows = await db
    .selectFrom('articles')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  return new Map(rows.map((row) => [row.status, Number(row.n)]));
}

export async function findArticleById(db: Db, id: number): Promise<ArticleRow | undefined> {
  return db.selectFrom('articles').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The article (other than `exceptId`) using `slug` now, or that used it before and redirects from it. */
export async function findSlugOwner(db: Db, slug: string, exceptId: number | null): Promise<number | undefined> {
  let current = db.selectFrom('articles').select('id').where('slug', '=', slug);
  if (exceptId !== null) current = current.where('id', '!=', exceptId);
  const row = await current.executeTakeFirst();
  if (row) return row.id;
  let old = db.selectFrom('article_slug_redirects').select('article_id').where('old_slug', '=', slug);
  if (exceptId !== null) old = old.where('article_id', '!=', exceptId);
  return (await old.executeTakeFirst())?.article_id;
}

/** Slugs in use (now or as redirects) that start with `base`, for finding a free `base-2`. */
export async function slugsStartingWith(db: Db, base: string): Promise<Set<string>> {
  const pattern = `${base.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const [current, old] = await Promise.all([
    db
      .selectFrom('articles')
      .select('slug')
      .where(sql<boolean>`slug LIKE ${pattern} ESCAPE '\\'`)
      .execute(),
    db
      .selectFrom('article_slug_redirects')
      .select('old_slug as slug')
      .where(sql<boolean>`old_slug LIKE ${pattern} ESCAPE '\\'`)
      .execute(),
  ]);
  return new Set([...current, ...old].map((row) => row.slug));
}

export type ArticleValues = Omit<ArticlesTable, 'id' | 'revision' | 'created_at' | 'created_by_user_id'>;

export async function insertArticle(
  db: Db,
  values: ArticleValues & { created_at: string; created_by_user_id: number | null },
): Promise<number> {
  const row = await db.insertInto('articles').values(values).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Writes an article only if it is still at `expectedRevision`, and bumps the revision: of two saves from the
 * same starting point only the first lands. Returns the new revision, or null when someone saved meanwhile.
 */
export async function updateArticleAtRevision(
  db: Db,
  id: number,
  expectedRevision: number,
  values: Partial<ArticleValues>,
): Promise<number | null> {
  const result = await db
    .updateTable('articles')
    .set({ ...values, revision: expectedRevision + 1 })
    .where('id', '=', id)
    .where('revision', '=', expectedRevision)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1 ? expectedRevision + 1 : null;
}

export async function replaceArticleAuthors(db: Db, articleId: number, authorIds: readonly number[]): Promise<void> {
  await db.deleteFrom('article_authors').where('article_id', '=', articleId).execute();
  if (authorIds.length > 0) {
    await db
      .insertInto('article_authors')
      .values(authorIds.map((author_id, position) => ({ article_id: articleId, author_id, position })))
      .execute();
  }
}

export async function replaceArticleTags(db: Db, articleId: number, tagIds: readonly number[]): Promise<void> {
  await db.deleteFrom('article_tags').where('article_id', '=', articleId).execute();
  if (tagIds.length > 0) {
    await db
      .insertInto('article_tags')
      .values(tagIds.map((tag_id, position) => ({ article_id: articleId, tag_id, position })))
      .execute();
  }
}

export async function authorIdsOf(db: Db, articleId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('article_authors')
    .select('author_id')
    .where('article_id', '=', articleId)
    .orderBy('position')
    .execute();
  return rows.map((row) => row.author_id);
}

export async function tagIdsOf(db: Db, articleId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('article_tags')
    .select('tag_id')
    .where('article_id', '=', articleId)
    .orderBy('position')
    .execute();
  return rows.map((row) => row.tag_id);
}

/** The old slug now answers with a 301 to the article's current one. */
export async function addSlugRedirect(db: Db, oldSlug: string, articleId: number): Promise<void> {
  await db
    .insertInto('article_slug_redirects')
    .values({ old_slug: oldSlug, article_id: articleId })
    .onConflict((oc) => oc.column('old_slug').doUpdateSet({ article_id: articleId }))
    .execute();
}

/** An article taking back one of its own old slugs no longer redirects from it. */
export async function removeSlugRedirect(db: Db, slug: string, articleId: number): Promise<void> {
  await db
    .deleteFrom('article_slug_redirects')
    .where('old_slug', '=', slug)
    .where('article_id', '=', articleId)
    .execute();
}

/** Which of `articleIds` are the user's own: started by them, or bylined to the author profile with their address. */
export async function ownArticleIds(
  db: Db,
  articleIds: readonly number[],
  user: { id: number; email_key: string },
): Promise<Set<number>> {
  if (articleIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('articles')
    .select('id')
    .where('id', 'in', [...articleIds])
    .where((eb) =>
      eb.or([
        eb('created_by_user_id', '=', user.id),
        eb.exists(
          eb
            .selectFrom('article_authors')
            .innerJoin('authors', 'authors.id', 'article_authors.author_id')
            .select('article_authors.article_id')
            .whereRef('article_authors.article_id', '=', 'articles.id')
            .where(sql<string>`lower(authors.email)`, '=', user.email_key),
        ),
      ]),
    )
    .execute();
  return new Set(rows.map((row) => row.id));
}

/** An article that shows a media file, as the media library names it. */
export type MediaUseRow = Pick<ArticleRow, 'id' | 'slug' | 'title' | 'status' | 'revision'>;

/**
 * Articles, in any status, that show one of these media rows (feature image or video) or link one of these
 * stored files in their body, by id.
 */
export async function findArticlesUsingMedia(
  db: Db,
  mediaIds: readonly number[],
  fileNames: readonly string[],
): Promise<MediaUseRow[]> {
  if (mediaIds.length === 0 && fileNames.length === 0) return [];
  return db
    .selectFrom('articles')
    .select(['id', 'slug', 'title', 'status', 'revision'])
    .where((eb) =>
      eb.or([
        ...(mediaIds.length > 0
          ? [eb('feature_image_id', 'in', [...mediaIds]), eb('video_id', 'in', [...mediaIds])]
          : []),
        // A fingerprinted name is unique, so finding it in the text is finding a link to the file.
        ...fileNames.map((name) => eb('body_markdown', 'like', `%/media/${name}%`)),
      ]),
    )
    .orderBy('id')
    .execute();
}

export async function isOwnArticle(
  db: Db,
  articleId: number,
  user: { id: number; email_key: string },
): Promise<boolean> {
  return (await ownArticleIds(db, [articleId], user)).has(articleId);
}

/** The author profile linked to a newsroom user by email address, if any. */
export async function findAuthorByEmail(db: Db, emailKey: string): Promise<AuthorRow | undefined> {
  return db
    .selectFrom('authors')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', emailKey)
    .executeTakeFirst();
}

export async function listAllTags(db: Db): Promise<TagRow[]> {
  return db.selectFrom('tags').selectAll().orderBy('name').execute();
}

export async function listAllAuthors(db: Db): Promise<AuthorRow[]> {
  return db.selectFrom('authors').selectAll().orderBy('name').execute();
}

export async function existingIds(db: Db, table: 'tags' | 'authors', ids: readonly number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom(table)
    .select('id')
    .where('id', 'in', [...ids])
    .execute();
  return new Set(rows.map((row) => row.id));
}

export async function findTagIdBySlugOrName(db: Db, slug: string, name: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('tags')
    .select('id')
    .where((eb) => eb.or([eb('slug', '=', slug), eb(sql<string>`lower(name)`, '=', name.toLowerCase())]))
    .executeTakeFirst();
  return row?.id;
}

export async function insertTag(db: Db, tag: { slug: string; name: string; created_at: string }): Promise<number> {
  const row = await db
    .insertInto('tags')
    .values({ ...tag, description: '' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface MediaChoice {
  id: number;
  kind: MediaKind;
  file_name: string;
  original_name: string;
  alt_text: string | null;
  poster_file_name: string | null;
}

/** The media library's images or videos, newest first, for the editor's pickers. */
export async function listMediaChoices(db: Db, kind: 'image' | 'video', limit = 500): Promise<MediaChoice[]> {
  return db
    .selectFrom('media')
    .leftJoin('media as poster', 'poster.id', 'media.poster_media_id')
    .select([
      'media.id',
      'media.kind',
      'media.file_name',
      'media.original_name',
      'media.alt_text',
      'poster.file_name as poster_file_name',
    ])
    .where('media.kind', '=', kind)
    .orderBy('media.id', 'desc')
    .limit(limit)
    .execute();
}

export async function mediaIdIsKind(db: Db, id: number, kind: 'image' | 'video'): Promise<boolean> {
  const row = await db
    .selectFrom('media')
    .select('id')
    .where('id', '=', id)
    .where('kind', '=', kind)
    .executeTakeFirst();
  return row !== undefined;
}

export type NewRevision = Omit<RevisionRow, 'id'>;

/** Everything about the article now, as a revision row to insert (`event`, `by` and `at` given). */
export async function snapshotOf(
  db: Db,
  articleId: number,
  event: RevisionEvent,
  by: string,
  at: string,
): Promise<NewRevision> {
  const [article, authors, tags] = await Promise.all([
    db.selectFrom('articles').selectAll().where('id', '=', articleId).executeTakeFirstOrThrow(),
    authorIdsOf(db, articleId),
    tagIdsOf(db, articleId),
  ]);
  return {
    article_id: articleId,
    revision: article.revision,
    event,
    title: article.title,
    slug: article.slug,
    status: article.status,
    standfirst: article.standfirst,
    body_markdown: article.body_markdown,
    seo_title: article.seo_title,
    seo_description: article.seo_description,
    correction_note: article.correction_note,
    video_caption: article.video_caption,
    feature_image_id: article.feature_image_id,
    video_id: article.video_id,
    scheduled_at: article.scheduled_at,
    tag_ids: JSON.stringify(tags),
    author_ids: JSON.stringify(authors),
    created_by: by,
    created_at: at,
  };
}

export async function insertRevision(db: Db, revision: NewRevision): Promise<number> {
  const row = await db.insertInto('article_revisions').values(revision).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function replaceRevision(db: Db, id: number, revision: NewRevision): Promise<void> {
  await db.updateTable('article_revisions').set(revision).where('id', '=', id).execute();
}

export async function latestRevision(db: Db, articleId: number): Promise<RevisionRow | undefined> {
  return db
    .selectFrom('article_revisions')
    .selectAll()
    .where('article_id', '=', articleId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** An article's revisions, newest first. */
export async function listRevisions(db: Db, articleId: number): Promise<RevisionRow[]> {
  return db
    .selectFrom('article_revisions')
    .selectAll()
    .where('article_id', '=', articleId)
    .orderBy('id', 'desc')
    .execute();
}

export async function findRevision(db: Db, articleId: number, revisionId: number): Promise<RevisionRow | undefined> {
  return db
    .selectFrom('article_revisions')
    .selectAll()
    .where('article_id', '=', articleId)
    .where('id', '=', revisionId)
    .executeTakeFirst();
}

/** Scheduled articles whose time has come, oldest first. */
export async function findDueScheduled(db: Db, nowIso: string, limit = 50): Promise<{ id: number }[]> {
  return db
    .selectFrom('articles')
    .select('id')
    .where('status', '=', 'scheduled')
    .where('scheduled_at', 'is not', null)
    .where('scheduled_at', '<=', nowIso)
    .orderBy('scheduled_at')
    .limit(limit)
    .execute();
}

/**
 * Publishes one due scheduled article if it is still scheduled and due: the conditional UPDATE is the claim,
 * so of several workers racing for it exactly one changes the row (and records the `published` revision in
 * the same transaction). True for the winner.
 */
export async function claimScheduledPublication(
  db: Db,
  articleId: number,
  nowIso: string,
  by: string,
  published?: (trx: Db) => Promise<void>,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    // The UPDATE comes first, so on SQLite the transaction takes the write lock at once (and waits for it
    // under busy_timeout) instead of failing to upgrade a read snapshot.
    const result = await trx
      .updateTable('articles')
      .set((eb) => ({
        status: 'published',
        published_at: eb.fn.coalesce('published_at', eb.val(nowIso)),
        scheduled_at: null,
        updated_at: nowIso,
        revision: eb('revision', '+', 1),
      }))
      .where('id', '=', articleId)
      .where('status', '=', 'scheduled')
      .where('scheduled_at', '<=', nowIso)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await insertRevision(trx, await snapshotOf(trx, articleId, 'published', by, nowIso));
    await published?.(trx);
    return true;
  });
}
