// What other parts of Gazette may use of the articles module (docs/ARCHITECTURE.md, "Modules and borders").
export { ArchiveIndex, type ArchiveFilter } from './articles.archive.ts';
export { renderArticleBody } from './articles.body.ts';
export type { RenderedBody } from './articles.body.ts';
export { ArticleEditor } from './articles.editor.service.ts';
export { articleRoutes } from './articles.routes.ts';
export { createScheduledPublisher } from './articles.scheduler.ts';
export {
  articleCountsByStatus,
  countPublishedArticles,
  hasAnyContent,
  listAuthorsWithArticles,
  listPublishedArticles,
  listTagsInUse,
  getAuthor,
  getPublishedArticle,
  getTag,
  hydrateArticles,
} from './articles.service.ts';
export type { ArticlePage, ArticleView } from './articles.service.ts';
export type { ArticleRow, ArticleStatus, AuthorRow, TagRow } from './articles.table.ts';
export { listAuthorsWithPostCounts, listTagsWithPostCounts, queryPublishedArticles } from './articles.query.service.ts';
export type { AuthorWithCount, TagWithCount } from './articles.query.service.ts';
export type { ArticleCondition, ArticleOrderField, ArticleQuery, ArticleTimeField } from './articles.query.ts';
