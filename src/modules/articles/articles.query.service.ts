import type { Db } from '../../db/index.ts';
import { findMediaByIds, toMediaView } from '../media/index.ts';
import type { ArticleQuery } from './articles.query.ts';
import { listAuthorsWithCounts, listTagsWithCounts, queryPublishedArticleRows } from './articles.query.repository.ts';
import { type ArticleView, hydrateArticles } from './articles.service.ts';

/** Published articles matching a query (filter, order, page), hydrated as readers see them, and the total. */
export async function queryPublishedArticles(
  db: Db,
  query: ArticleQuery,
): Promise<{ articles: ArticleView[]; total: number }> {
  const { rows, total } = await queryPublishedArticleRows(db, query);
  return { articles: await hydrateArticles(db, rows), total };
}

export interface TagWithCount {
  id: number;
  slug: string;
  name: string;
  description: string;
  posts: number;
}

/** Every tag, by name, with its number of published articles. */
export async function listTagsWithPostCounts(db: Db): Promise<TagWithCount[]> {
  return (await listTagsWithCounts(db)).map(({ id, slug, name, description, posts }) => ({
    id,
    slug,
    name,
    description,
    posts,
  }));
}

export interface AuthorWithCount {
  id: number;
  slug: string;
  name: string;
  bio: string;
  /** The profile picture's URL, or null. */
  image: string | null;
  posts: number;
}

/** Authors with published articles, by name, with their number and profile picture. */
export async function listAuthorsWithPostCounts(db: Db): Promise<AuthorWithCount[]> {
  const authors = await listAuthorsWithCounts(db);
  const media = new Map(
    (
      await findMediaByIds(
        db,
        authors.flatMap((a) => (a.avatar_media_id === null ? [] : [a.avatar_media_id])),
      )
    ).map((m) => [m.id, m]),
  );
  return authors.map((a) => {
    const avatar = a.avatar_media_id === null ? undefined : media.get(a.avatar_media_id);
    return {
      id: a.id,
      slug: a.slug,
      name: a.name,
      bio: a.bio,
      image: avatar ? toMediaView(avatar).url : null,
      posts: a.posts,
    };
  });
}
