import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { announceWork } from '../../jobs/wake-ups.ts';
import { type ArticleView, getPublishedArticle } from '../articles/index.ts';
import { getSiteSettings } from '../settings/index.ts';
import type { MailTransport, SendOutcome } from '../mail/index.ts';
import { composeIssue, personalise, prepareTemplate } from './newsletters.compose.ts';
import {
  countDeliveries,
  countDeliveriesByIssue,
  countDeliveriesByStatus,
  countSentPerPeriod,
  countSuppressions,
  type DeliveryCounts,
  deliveriesChannel,
  findDeliveryById,
  findIssue,
  findPublishedSlugs,
  findSuppressedHashes,
  insertDeliveriesForConfirmed,
  insertIssue,
  listIssues,
  listQueuedAddressKeys,
  markSkipped,
  sentTimeSpan,
  setIssueQueued,
} from './newsletters.repository.ts';
import type { IssueRow } from './newsletters.table.ts';

/** What composing and queuing need from outside this module. */
export interface NewsletterDeps {
  siteUrl: string;
  /** The suppression-list hash of an address key (`subscribers.email_key`): the subscribers module's. */
  emailHash: (emailKey: string) => string;
  now?: () => Date;
}

/** Loads published articles by slug, in the order given; an unknown slug is `article.not_found`. */
export async function loadArticles(db: Db, slugs: readonly string[]): Promise<ArticleView[]> {
  const articles: ArticleView[] = [];
  for (const slug of slugs) {
    const found = await getPublishedArticle(db, slug);
    if (!('article' in found)) {
      const again = await getPublishedArticle(db, found.redirectTo);
      if (!('article' in again)) throw new AppError('article.not_found');
      articles.push(again.article);
    } else articles.push(found.article);
  }
  return articles;
}

/** Renders an issue from articles and stores it as a draft, rendered once for every recipient. */
export async function createIssue(
  db: Db,
  deps: NewsletterDeps,
  input: { slugs: readonly string[]; subject?: string | undefined },
): Promise<IssueRow> {
  const articles = await loadArticles(db, input.slugs);
  const settings = await getSiteSettings(db);
  const composed = composeIssue({
    publicationName: settings.publicationName,
    newsletterName: settings.newsletterName,
    language: settings.locale,
    siteUrl: deps.siteUrl,
    articles,
    subject: input.subject,
  });
  return insertIssue(db, {
    subject: composed.subject,
    article_ids: JSON.stringify(articles.map((a) => a.id)),
    html: composed.html,
    text: composed.text,
    status: 'draft',
    created_at: (deps.now?.() ?? new Date()).toISOString(),
    queued_at: null,
    finished_at: null,
  });
}

/**
 * Queues the issue to every confirmed subscriber whose address is not suppressed; the workers send it.
 * Idempotent: queuing twice adds nobody twice (and adds subscribers confirmed in between). Resolves with
 * the number of recipients.
 */
export async function queueIssue(db: Db, deps: NewsletterDeps, issueId: number): Promise<number> {
  const issue = await findIssue(db, issueId);
  if (!issue) throw new AppError('newsletter.issue_not_found');
  const now = (deps.now?.() ?? new Date()).toISOString();
  await db.transaction().execute(async (trx) => {
    await insertDeliveriesForConfirmed(trx, issueId, now);
    // Suppressions are hashes, which SQL cannot compute here; the list is short, so check in code, and
    // only when there is one. (The worker checks again just before sending.)
    if ((await countSuppressions(trx)) > 0) {
      const queued = await listQueuedAddressKeys(trx, issueId);
      const hashes = queued.map((d) => ({ id: d.id, hash: deps.emailHash(d.emailKey) }));
      const suppressed = await findSuppressedHashes(
        trx,
        hashes.map((h) => h.hash),
      );
      await markSkipped(
        trx,
        hashes.filter((h) => suppressed.has(h.hash)).map((h) => h.id),
        'suppressed',
      );
    }
    await setIssueQueued(trx, issueId, await countDeliveries(trx, issueId), now);
  });
  // Committed: workers start now, not at their next poll (a NOTIFY on PostgreSQL reaches every process).
  await announceWork(db, deliveriesChannel);
  return countDeliveries(db, issueId);
}

export interface IssueProgress {
  issue: Omit<IssueRow, 'html' | 'text'>;
  counts: DeliveryCounts;
}

/** An issue's state and its deliveries counted by state. */
export async function getIssueProgress(db: Db, issueId: number): Promise<IssueProgress> {
  const issue = await findIssue(db, issueId);
  if (!issue) throw new AppError('newsletter.issue_not_found');
  const summary = {
    id: issue.id,
    subject: issue.subject,
    article_ids: issue.article_ids,
    status: issue.status,
    recipient_count: issue.recipient_count,
    created_at: issue.created_at,
    queued_at: issue.queued_at,
    finished_at: issue.finished_at,
  };
  return { issue: summary, counts: await countDeliveriesByStatus(db, issueId) };
}

/**
 * An issue as a reader would get it, without storing or sending anything: for the browser preview, the
 * CLI preview and the test send. The reader's own links are replaced by inert sample ones.
 */
export async function renderIssuePreview(
  db: Db,
  siteUrl: string,
  input: { slugs: readonly string[]; subject?: string | undefined },
): Promise<{ subject: string; html: string; text: string }> {
  const settings = await getSiteSettings(db);
  const composed = composeIssue({
    publicationName: settings.publicationName,
    language: settings.locale,
    newsletterName: settings.newsletterName,
    siteUrl,
    articles: await loadArticles(db, input.slugs),
    subject: input.subject,
  });
  const page = personalise(prepareTemplate(composed), {
    unsubscribeUrl: `${siteUrl}/newsletter/unsubscribe?token=preview`,
    manageUrl: `${siteUrl}/newsletter/me?token=preview`,
  });
  return { subject: composed.subject, ...page };
}

/** Sends one copy of an issue to one address, marked as a test; queues nothing and records nothing. */
export async function sendTestIssue(
  db: Db,
  transport: MailTransport,
  input: { siteUrl: string; slugs: readonly string[]; subject?: string | undefined; to: string },
): Promise<SendOutcome> {
  return sendTestCopy(transport, input.siteUrl, await renderIssuePreview(db, input.siteUrl, input), input.to);
}

function sendTestCopy(
  transport: MailTransport,
  siteUrl: string,
  preview: { subject: string; html: string; text: string },
  to: string,
): Promise<SendOutcome> {
  const host = new URL(siteUrl).hostname;
  return transport.send({
    to,
    subject: `[Test] ${preview.subject}`,
    html: preview.html,
    text: preview.text,
    messageId: `<gazette.test.${Date.now()}.${Math.random().toString(36).slice(2)}@${host}>`,
  });
}

// The newsroom's newsletter screens (newsletters.newsroom.routes.ts) use what follows.

/** The longest subject the newsroom accepts (mail clients show far less). */
export const maxSubjectLength = 200;
/** At most this many articles in one issue. */
export const maxIssueArticles = 10;

/**
 * Composes and stores a draft issue from published articles picked by id, in the order given. The subject
 * is required here (the CLI defaults it to the first headline; in the newsroom the editor sees the field).
 */
export async function createIssueFromArticleIds(
  db: Db,
  deps: NewsletterDeps,
  input: { articleIds: readonly number[]; subject: string },
): Promise<IssueRow> {
  const subject = input.subject.replace(/[\r\n]+/g, ' ').trim();
  if (!subject) throw new AppError('newsletter.subject_required');
  if (subject.length > maxSubjectLength) throw new AppError('newsletter.subject_too_long');
  if (input.articleIds.length === 0) throw new AppError('newsletter.no_articles');
  if (input.articleIds.length > maxIssueArticles) throw new AppError('newsletter.too_many_articles');
  const slugs = await findPublishedSlugs(db, input.articleIds);
  const ordered = input.articleIds.map((id) => slugs.get(id));
  if (ordered.some((slug) => slug === undefined)) throw new AppError('newsletter.unknown_article');
  return createIssue(db, deps, { slugs: ordered as string[], subject });
}

/** A stored issue as a reader gets it, with inert sample links in place of a reader's own. */
export async function renderStoredIssue(
  db: Db,
  siteUrl: string,
  issueId: number,
): Promise<{ issue: IssueRow; subject: string; html: string; text: string }> {
  const issue = await findIssue(db, issueId);
  if (!issue) throw new AppError('newsletter.issue_not_found');
  const page = personalise(prepareTemplate(issue), {
    unsubscribeUrl: `${siteUrl}/newsletter/unsubscribe?token=preview`,
    manageUrl: `${siteUrl}/newsletter/me?token=preview`,
  });
  return { issue, subject: issue.subject, ...page };
}

/** Sends one test copy of a stored issue (exactly what readers will get, sample links aside). */
export async function sendTestOfIssue(
  db: Db,
  transport: MailTransport,
  input: { siteUrl: string; issueId: number; to: string },
): Promise<SendOutcome> {
  return sendTestCopy(transport, input.siteUrl, await renderStoredIssue(db, input.siteUrl, input.issueId), input.to);
}

/** Queues a draft to its readers; an issue already queued or sent is refused (it would mail the new ones). */
export async function sendIssue(db: Db, deps: NewsletterDeps, issueId: number): Promise<number> {
  const issue = await findIssue(db, issueId);
  if (!issue) throw new AppError('newsletter.issue_not_found');
  if (issue.status !== 'draft') throw new AppError('newsletter.already_sent');
  return queueIssue(db, deps, issueId);
}

/** The newest issues with their deliveries counted by state. */
export async function listIssuesWithCounts(
  db: Db,
  limit: number,
): Promise<(Omit<IssueRow, 'html' | 'text'> & { counts: DeliveryCounts })[]> {
  const issues = await listIssues(db, limit);
  const counts = await countDeliveriesByIssue(
    db,
    issues.map((i) => i.id),
  );
  return issues.map((issue) => ({
    ...issue,
    counts: counts.get(issue.id) ?? { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 },
  }));
}

/**
 * Messages accepted over time for one issue: per minute when the sending took under three hours, else
 * per hour (a chart of hundreds of minute bars says less than one of hours).
 */
export async function getSendingHistory(
  db: Db,
  issueId: number,
): Promise<{ period: 'minute' | 'hour'; points: { period: string; count: number }[] }> {
  const span = await sentTimeSpan(db, issueId);
  if (!span) return { period: 'minute', points: [] };
  const period = Date.parse(span.last) - Date.parse(span.first) < 3 * 60 * 60 * 1000 ? 'minute' : 'hour';
  return { period, points: await countSentPerPeriod(db, issueId, period) };
}

/**
 * The delivery a bounce or complaint names (by a signed tag the caller has checked): its issue and
 * subscriber; undefined when there is no such delivery (its issue deleted).
 */
export async function deliveryForBounce(
  db: Db,
  deliveryId: number,
): Promise<{ deliveryId: number; issueId: number; subscriberId: number | null } | undefined> {
  const row = await findDeliveryById(db, deliveryId);
  return row && { deliveryId: row.id, issueId: row.issue_id, subscriberId: row.subscriber_id };
}
