import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { findMediaByIds, findVariantsOfMedia } from '../media/index.ts';
import { type MediaView, type VideoView, toMediaView, toVideoView } from '../media/index.ts';
import {
  findAuthorBySlug,
  findAuthorsOfArticles,
  findPublishedArticleBySlug,
  findRedirectedSlug,
  findTagBySlug,
  findTagsOfArticles,
  storeRenderedBody,
} from './articles.repository.ts';
import { type RenderedBody, renderArticleBody } from './articles.body.ts';
import type { ArticleRow, ArticleStatus, AuthorRow, TagRow } from './articles.table.ts';
import { countArticlesByStatus } from './articles.editor.repository.ts';

/** An article as readers see it: its bylines, tags and media resolved. */
export interface ArticleView {
  id: number;
  slug: string;
  title: string;
  standfirst: string;
  bodyMarkdown: string;
  /** The body as sanitised HTML, rendered when the article was saved. */
  readonly bodyHtml: string;
  /** The body as plain text (descriptions, reading time). */
  readonly bodyText: string;
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
    const mediaIds = rows
      .flatMap((row) => [row.feature_image_id, row.video_id])
      .filter((id): id is number => id !== null);
    const media = new Map((await findMediaByIds(db, mediaIds)).map((m) => [m.id, m]));
    // A video's poster and captions are media rows too: fetch the ones not already loaded.
    const extraIds = [...media.values()]
      .flatMap((m) => [m.poster_media_id, m.captions_media_id])
      .filter((id): id is number => id !== null && !media.has(id));
    for (const m of await findMediaByIds(db, extraIds)) media.set(m.id, m);
    return { media, variants: await findVariantsOfMedia(db, [...media.keys()]) };
  };
  // Side by side: on PostgreSQL each is a round trip of its own, on a connection of its own.
  const [authors, tags, { media, variants }] = await Promise.all([
    findAuthorsOfArticles(db, ids),
    findTagsOfArticles(db, ids),
    loadMedia(),
  ]);

  return rows.map((row) => {
    const videoRow = row.video_id === null ? undefined : media.get(row.video_id);
    const imageRow = row.feature_image_id === null ? undefined : media.get(row.feature_image_id);
    const video = videoRow ? toVideoView(videoRow, media, variants) : null;
    const body = storedBody(row);
    return {
      id: row.id,
      slug: row.slug,
      title: row.title,
      standfirst: row.standfirst,
      bodyMarkdown: row.body_markdown,
      get bodyHtml() {
        return body().body_html;
      },
      get bodyText() {
        return body().body_text;
      },
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

/**
 * The body stored with the row; rendered on first use for a row written before bodies were rendered at save
 * (or read without those columns, as search results are, which never show the body).
 */
function storedBody(row: ArticleRow): () => RenderedBody {
  let body: RenderedBody | undefined;
  return () =>
    (body ??=
      row.body_html != null && row.body_text != null
        ? { body_html: row.body_html, body_text: row.body_text }
        : renderArticleBody(row.body_markdown));
}

/** The published article at `slug`, or where an old slug now points (`redirectTo`). */
export async function getPublishedArticle(
  db: Db,
  slug: string,
): Promise<{ article: ArticleView } | { redirectTo: string }> {
  let row = await findPublishedArticleBySlug(db, slug);
  if (row) {
    if (row.body_html === null || row.body_text === null) {
      // Written before bodies were rendered at save: render it now, and once for good.
      const body = renderArticleBody(row.body_markdown);
      await storeRenderedBody(db, row.id, row.revision, body);
      row = { ...row, ...body };
    }
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
export {
  countPublishedArticles,
  hasAnyContent,
  listAuthorsWithArticles,
  listPublishedArticles,
  listTagsInUse,
} from './articles.repository.ts';
