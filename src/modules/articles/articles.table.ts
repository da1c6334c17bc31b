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
}

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
