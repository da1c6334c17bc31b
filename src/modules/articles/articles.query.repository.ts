import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { Database, Db } from '../../db/index.ts';
import { articleColumns } from './articles.repository.ts';
import type { ArticleCondition, ArticleQuery } from './articles.query.ts';
import type { ArticleRow } from './articles.table.ts';

type Eb = ExpressionBuilder<Database, 'articles'>;

/** The condition as SQL over `articles` (tags and authors through EXISTS on their link tables). */
function toSql(eb: Eb, c: ArticleCondition): Expression<SqlBool> {
  if ('all' in c) return c.all.length === 0 ? eb.lit(true) : eb.and(c.all.map((x) => toSql(eb, x)));
  if ('any' in c) return c.any.length === 0 ? eb.lit(false) : eb.or(c.any.map((x) => toSql(eb, x)));
  if ('not' in c) return eb.not(toSql(eb, c.not));
  if ('always' in c) return eb.lit(c.always);
  switch (c.field) {
    case 'id':
    case 'slug':
    case 'title':
      return c.in.length === 0 ? eb.lit(false) : eb(`articles.${c.field}`, 'in', c.in as never[]);
    case 'tag':
    case 'primary_tag':
      if (c.in.length === 0) return eb.lit(false);
      return eb.exists(
        eb
          .selectFrom('article_tags')
          .innerJoin('tags', 'tags.id', 'article_tags.tag_id')
          .select('article_tags.article_id')
          .whereRef('article_tags.article_id', '=', 'articles.id')
          .where('tags.slug', 'in', c.in)
          // The primary tag is the first; positions start at 0 and are kept in order by the editor.
          .$if(c.field === 'primary_tag', (q) =>
            q.where(
              'article_tags.position',
              '=',
              eb
                .selectFrom('article_tags as first')
                .select((f) => f.fn.min('first.position').as('p'))
                .whereRef('first.article_id', '=', 'articles.id'),
            ),
          ),
      );
    case 'author':
    case 'primary_author':
      if (c.in.length === 0) return eb.lit(false);
      return eb.exists(
        eb
          .selectFrom('article_authors')
          .innerJoin('authors', 'authors.id', 'article_authors.author_id')
          .select('article_authors.article_id')
          .whereRef('article_authors.article_id', '=', 'articles.id')
          .where('authors.slug', 'in', c.in)
          .$if(c.field === 'primary_author', (q) =>
            q.where(
              'article_authors.position',
              '=',
              eb
                .selectFrom('article_authors as first')
                .select((f) => f.fn.min('first.position').as('p'))
                .whereRef('first.article_id', '=', 'articles.id'),
            ),
          ),
      );
    case 'published_at':
    case 'updated_at':
    case 'created_at':
      return eb(`articles.${c.field}`, c.op, c.value);
  }
}

function published(db: Db, where: ArticleCondition) {
  return db
    .selectFrom('articles')
    .where('articles.status', '=', 'published')
    .where('articles.published_at', 'is not', null)
    .where((eb) => toSql(eb, where));
}

/** One page of published articles matching the query, and how many match in all. */
export async function queryPublishedArticleRows(
  db: Db,
  query: ArticleQuery,
): Promise<{ rows: ArticleRow[]; total: number }> {
  let select = published(db, query.where).select(articleColumns);
  for (const { field, direction } of query.order) select = select.orderBy(`articles.${field}`, direction);
  // A stable order whatever was asked, so pages never overlap.
  select = select.orderBy('articles.id', query.order[0]?.direction ?? 'desc');
  const [rows, count] = await Promise.all([
    select.limit(query.limit).offset(query.offset).execute(),
    published(db, query.where)
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.count) };
}

/** Every tag with its number of published articles (the API's `count.posts`). */
export async function listTagsWithCounts(
  db: Db,
): Promise<{ id: number; slug: string; name: string; description: string; created_at: string; posts: number }[]> {
  const rows = await db
    .selectFrom('tags')
    .selectAll('tags')
    .select((eb) =>
      eb
        .selectFrom('article_tags')
        .innerJoin('articles', 'articles.id', 'article_tags.article_id')
        .select((c) => c.fn.countAll<number>().as('n'))
        .whereRef('article_tags.tag_id', '=', 'tags.id')
        .where('articles.status', '=', 'published')
        .as('posts'),
    )
    .orderBy('tags.name')
    .orderBy('tags.id')
    .execute();
  return rows.map((r) => ({ ...r, posts: Number(r.posts ?? 0) }));
}

/** Authors with at least one published article, with their number (as Ghost's Content API lists them). */
export async function listAuthorsWithCounts(
  db: Db,
): Promise<{ id: number; slug: string; name: string; bio: string; avatar_media_id: number | null; posts: number }[]> {
  const rows = await db
    .selectFrom('authors')
    .innerJoin('article_authors', 'article_authors.author_id', 'authors.id')
    .innerJoin('articles', 'articles.id', 'article_authors.article_id')
    .where('articles.status', '=', 'published')
    .select(['authors.id', 'authors.slug', 'authors.name', 'authors.bio', 'authors.avatar_media_id'])
    .select((eb) => eb.fn.countAll<number>().as('posts'))
    .groupBy(['authors.id', 'authors.slug', 'authors.name', 'authors.bio', 'authors.avatar_media_id'])
    .orderBy('authors.name')
    .orderBy('authors.id')
    .execute();
  return rows.map((r) => ({ ...r, posts: Number(r.posts) }));
}
