import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { findMediaByIds, findVariantsOfMedia } from '../media/index.ts';
import { type MediaView, type VideoView, toMediaView, toVideoView } from '../media/index.ts';
import {
  countPublishedArticles,
  findAuthorBySlug,
  findAuthorsOfArticles,
  findPublishedArticleBySlug,
  findRedirectedSlug,
  findTagBySlug,
  findTagsOfArticles,
  listPublishedArticles,
  type PublishedFilter,
} from './articles.repository.ts';
import type { ArticleRow, ArticleStatus, AuthorRow, TagRow } from './articles.table.ts';
import { countArticlesByStatus } from './articles.editor.repository.ts';

/** An article as readers see it: its bylines, tags and media resolved. */
export interface ArticleView {
  id: number;
  slug: string;
  title: string;
  standfirst: string;
  bodyMarkdown: string;
  publishedAt: string;
  /** Shown as "Updated" only when it is meaningfully later than publication. */
  updatedAt: string;
  correctionNote: string | null;
  seoTitle: string | null;
  seoDescription: string | null;
  authors: AuthorRow[];
  tags: TagRow[];
  /** The feature image, or the video's poster frame when there is only a video. */
  image: MediaView | null;
  video: VideoView | null;
  videoCaption: string | null;
}

export interface ArticlePage {
  articles: ArticleView[];
  page: number;
  pageCount: number;
  total: number;
}

export const articlesPerPage = 12;

/** Resolves authors, tags and media for a list of article rows in three queries, whatever its length. */
export async function hydrateArticles(db: Db, rows: readonly ArticleRow[]): Promise<ArticleView[]> {
  const ids = rows.map((row) => row.id);
  const loadMedia = async () => {
    const mediaIds = rows.flatMap((row) => [row.feature_image_id, row.video_id]).filter((id): id is number => id !== null);
    const media = new Map((await findMediaByIds(db, mediaIds)).map((m) => [m.id, m]));
    // A video's poster and captions are media rows too: fetch the ones not already loaded.
    const extraIds = [...media.values()]
      .flatMap((m) => [m.poster_media_id, m.captions_media_id])
      .filter((id): id is number => id !== null && !media.has(id));
    for (const m of await findMediaByIds(db, extraIds)) media.set(m.id, m);
    return { media, variants: await findVariantsOfMedia(db, [...media.keys()]) };
  };
  // Side by side: on PostgreSQL each is a round trip of its own, on a connection of its own.
  const [authors, tags, { media, variants }] = await Promise.all([findAuthorsOfArticles(db, ids), findTagsOfArticles(db, ids), loadMedia()]);

  return rows.map((row) => {
    const videoRow = row.video_id === null ? undefined : media.get(row.video_id);
    const imageRow = row.feature_image_id === null ? undefined : media.get(row.feature_image_id);
    const video = videoRow ? toVideoView(videoRow, media, variants) : null;
    return {
      id: row.id,
      slug: row.slug,
      title: row.title,
      standfirst: row.standfirst,
      bodyMarkdown: row.body_markdown,
      publishedAt: row.published_at ?? row.created_at,
      updatedAt: row.updated_at,
      correctionNote: row.correction_note,
      seoTitle: row.seo_title,
      seoDescription: row.seo_description,
      authors: authors.get(row.id) ?? [],
      tags: tags.get(row.id) ?? [],
      image: imageRow ? toMediaView(imageRow, variants) : (video?.poster ?? null),
      video,
      videoCaption: row.video_caption,
    };
  });
}

/** One page of published articles, newest first; a page past the end is a 404. */
export async function getPublishedPage(db: Db, filter: PublishedFilter, page: number, perPage = articlesPerPage): Promise<ArticlePage> {
  const total = await countPublishedArticles(db, filter);
  const pageCount = Math.max(1, Math.ceil(total / perPage));
  if (page > pageCount) throw new AppError('page.not_found');
  const rows = await listPublishedArticles(db, filter, perPage, (page - 1) * perPage);
  return { articles: await hydrateArticles(db, rows), page, pageCount, total };
}

/** The published article at `slug`, or where an old slug now points (`redirectTo`). */
export async function getPublishedArticle(db: Db, slug: string): Promise<{ article: ArticleView } | { redirectTo: string }> {
  const row = await findPublishedArticleBySlug(db, slug);
  if (row) {
    const [article] = await hydrateArticles(db, [row]);
    if (article) return { article };
  }
  const current = await findRedirectedSlug(db, slug);
  if (current !== undefined) return { redirectTo: current };
  throw new AppError('article.not_found');
}

export async function getTag(db: Db, slug: string): Promise<TagRow> {
  const tag = await findTagBySlug(db, slug);
  if (!tag) throw new AppError('tag.not_found');
  return tag;
}

export async function getAuthor(db: Db, slug: string): Promise<AuthorRow> {
  const author = await findAuthorBySlug(db, slug);
  if (!author) throw new AppError('author.not_found');
  return author;
}

/** How many articles are in each status (the newsroom's dashboard). */
export function articleCountsByStatus(db: Db): Promise<Map<ArticleStatus, number>> {
  return countArticlesByStatus(db);
}

/** Reads the public site and the seed use as the repository answers them (no rule applies on top). */
export { countPublishedArticles, hasAnyContent, listAuthorsWithArticles, listPublishedArticles, listTagsInUse } from './articles.repository.ts';
