import type { Db } from '../../db/index.ts';
import { emitWebhookEvents } from '../webhooks/index.ts';
import { findArticleById } from './articles.editor.repository.ts';
import { findAuthorsOfArticles, findTagsOfArticles } from './articles.repository.ts';
import type { ArticleStatus } from './articles.table.ts';

export type ArticleEventType = 'post.published' | 'post.updated' | 'post.unpublished';

/** What a change of status (or an edit) is, to readers: published, updated, unpublished, or nothing they saw. */
export function articleEventFor(before: ArticleStatus, after: ArticleStatus): ArticleEventType | null {
  if (before !== 'published' && after === 'published') return 'post.published';
  if (before === 'published' && after === 'published') return 'post.updated';
  if (before === 'published') return 'post.unpublished';
  return null;
}

/**
 * Queues the webhook events of articles, read as they are in the caller's transaction `trx` (after its
 * UPDATE of them, so the row lock orders the events of one article). The post's data is a subset of the
 * Content API's post, with `path` (made an absolute `url` when sent).
 */
export async function emitArticleEvents(
  trx: Db,
  events: readonly { articleId: number; type: ArticleEventType }[],
  now: Date,
): Promise<void> {
  if (events.length === 0) return;
  const ids = [...new Set(events.map((e) => e.articleId))];
  const [authors, tags] = await Promise.all([findAuthorsOfArticles(trx, ids), findTagsOfArticles(trx, ids)]);
  const webhookEvents = [];
  for (const { articleId, type } of events) {
    const row = await findArticleById(trx, articleId);
    if (!row) continue;
    webhookEvents.push({
      type,
      subject: `post:${row.id}`,
      data: {
        post: {
          id: String(row.id),
          slug: row.slug,
          title: row.title,
          status: row.status,
          path: `/articles/${row.slug}`,
          excerpt: row.standfirst,
          published_at: row.published_at,
          updated_at: row.updated_at,
          revision: Number(row.revision),
          tags: (tags.get(row.id) ?? []).map((t) => ({ id: String(t.id), slug: t.slug, name: t.name })),
          authors: (authors.get(row.id) ?? []).map((a) => ({ id: String(a.id), slug: a.slug, name: a.name })),
        },
      },
    });
  }
  await emitWebhookEvents(trx, webhookEvents, now);
}
