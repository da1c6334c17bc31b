import type { Generated, Insertable, Selectable } from 'kysely';

/** Where an article is in its life: only `published` articles reach readers. */
export type ArticleStatus = 'draft' | 'scheduled' | 'published' | 'unpublished';

export interface AuthorsTable {
  id: Generated<number>;
  slug: string;
  name: string;
  bio: string;
  email: string | null;
  avatar_media_id: number | null;
  created_at: string;
}

export interface TagsTable {
  id: Generated<number>;
  slug: string;
  name: string;
  description: string;
  created_at: string;
}

export interface ArticlesTable {
  id: Generated<number>;
  slug: string;
  title: string;
  standfirst: string;
  body_markdown: string;
  /**
   * The body rendered from `body_markdown` when the article was saved (articles.body.ts): sanitised HTML and
   * its plain text. Null until first read for rows older than that (then rendered and stored).
   */
  body_html: string | null;
  body_text: string | null;
  status: ArticleStatus;
  feature_image_id: number | null;
  video_id: number | null;
  video_caption: string | null;
  seo_title: string | null;
  seo_description: string | null;
  /** A published correction, shown on the article and in its structured data. */
  correction_note: string | null;
  scheduled_at: string | null;
  published_at: string | null;
  updated_at: string;
  created_at: string;
  /** Bumped by every save; a write names the revision it started from, so a stale one is refused. */
  revision: Generated<number>;
  /** The newsroom user who started the article (their "own" article); null for seeded ones. */
  created_by_user_id: number | null;
}

export interface ArticleAuthorsTable {
  article_id: number;
  author_id: number;
  position: number;
}

export interface ArticleTagsTable {
  article_id: number;
  tag_id: number;
  position: number;
}

export interface ArticleRevisionsTable {
  id: Generated<number>;
  article_id: number;
  title: string;
  standfirst: string;
  body_markdown: string;
  created_by: string | null;
  created_at: string;
  /** The article's `revision` this row records (0 for rows older than the editor). */
  revision: Generated<number>;
  /** What happened: saved, autosaved, published, scheduled, unpublished, restored. */
  event: Generated<RevisionEvent>;
  slug: string | null;
  status: ArticleStatus | null;
  seo_title: string | null;
  seo_description: string | null;
  correction_note: string | null;
  video_caption: string | null;
  feature_image_id: number | null;
  video_id: number | null;
  scheduled_at: string | null;
  /** JSON array of tag ids, in order. */
  tag_ids: string | null;
  /** JSON array of author ids, in byline order. */
  author_ids: string | null;
}

/** What a revision row records. */
/** `media_changed`: a file the article shows was changed in the media library (a video's captions). */
export type RevisionEvent =
  'saved' | 'autosaved' | 'published' | 'scheduled' | 'unpublished' | 'restored' | 'media_changed';

export interface ArticleSlugRedirectsTable {
  old_slug: string;
  article_id: number;
}

export interface ArticlesTables {
  authors: AuthorsTable;
  tags: TagsTable;
  articles: ArticlesTable;
  article_authors: ArticleAuthorsTable;
  article_tags: ArticleTagsTable;
  article_revisions: ArticleRevisionsTable;
  article_slug_redirects: ArticleSlugRedirectsTable;
}

export type AuthorRow = Selectable<AuthorsTable>;
export type TagRow = Selectable<TagsTable>;
export type ArticleRow = Selectable<ArticlesTable>;
export type NewArticle = Insertable<ArticlesTable>;
export type RevisionRow = Selectable<ArticleRevisionsTable>;
