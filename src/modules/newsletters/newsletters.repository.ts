import { PostgresAdapter, sql } from 'kysely';
import { renewalSkipsLockedRows, statusIn, textByKey } from '../../db/conditions.ts';
import { inChunks } from '../../db/chunks.ts';
import { type Db, inTransaction } from '../../db/index.ts';
import { emitWebhookEvents } from '../webhooks/index.ts';
import type { DeliveryStatus, IssueRow, NewIssue } from './newsletters.table.ts';

/**
 * The SQL of newsletter issues and the delivery queue. Every state change of a delivery is one statement
 * guarded by the state it leaves, so two workers (or a worker and a stale-claim sweep) can never both move
 * the same row.
 */

/**
 * The queue's indexes are partial (migration 20261202100000): each holds only the rows of some statuses.
 * SQLite's planner uses a partial index only when the query spells its condition with literals, so these
 * conditions are written out here rather than bound as parameters.
 */
const isOpen = sql<boolean>`(status = 'queued' OR status = 'sending')`;
const isSending = sql<boolean>`status = 'sending'`;
const isClosed = sql<boolean>`(status = 'failed' OR status = 'skipped')`;
const isSent = sql<boolean>`status = 'sent'`;

/** The channel on which queued deliveries are announced to the delivery workers (src/jobs/wake-ups.ts). */
export const deliveriesChannel = 'gazette_deliveries';

function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function insertIssue(db: Db, issue: NewIssue): Promise<IssueRow> {
  return db.insertInto('newsletter_issues').values(issue).returningAll().executeTakeFirstOrThrow();
}

export async function findIssue(db: Db, id: number): Promise<IssueRow | undefined> {
  return db.selectFrom('newsletter_issues').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listIssues(db: Db, limit: number): Promise<Omit<IssueRow, 'html' | 'text'>[]> {
  return db
    .selectFrom('newsletter_issues')
    .select(['id', 'subject', 'article_ids', 'status', 'recipient_count', 'created_at', 'queued_at', 'finished_at'])
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/**
 * Queue the issue to every confirmed subscriber in one `INSERT … SELECT` (100,000 rows in well under a
 * second). Idempotent: the unique (issue_id, subscriber_id) constraint makes a second call insert nothing.
 * Resolves with the number of rows inserted by this call.
 */
export async function insertDeliveriesForConfirmed(db: Db, issueId: number, now: string): Promise<number> {
  const result = await db
    .insertInto('deliveries')
    .columns(['issue_id', 'subscriber_id', 'email', 'status', 'next_attempt_at'])
    .expression(
      db
        .selectFrom('subscribers')
        // Literals typed by cast: PostgreSQL gives a bare parameter in a select list the type text.
        .select([
          sql<number>`cast(${issueId} as integer)`.as('issue_id'),
          'id',
          'email',
          sql<DeliveryStatus>`cast('queued' as text)`.as('status'),
          sql<string>`cast(${now} as text)`.as('next_attempt_at'),
        ])
        .where('status', '=', 'confirmed')
        .orderBy('id'),
    )
    .onConflict((oc) => oc.columns(['issue_id', 'subscriber_id']).doNothing())
    .executeTakeFirst();
  const inserted = Number(result.numInsertedOrUpdatedRows ?? 0n);
  // PostgreSQL plans the claim from the table's statistics, and the send starts now, before autovacuum
  // would notice the new rows (or never, where it is off): without them each 200-row claim read every
  // queued row through a bitmap scan and sorted it (~50 ms at 100,000 deliveries, against ~3 ms by the
  // index in claim order). ANALYZE samples a fixed number of rows, and counts this transaction's own.
  if (inserted >= analyzeAfterInserting && isPostgres(db)) await sql`ANALYZE deliveries`.execute(db);
  return inserted;
}

/** Queued rows after which the statistics are refreshed (a small issue does not move the plan). */
const analyzeAfterInserting = 10_000;

/** Deliveries of an issue still waiting, with their subscribers' address keys (for the suppression check). */
export async function listQueuedAddressKeys(db: Db, issueId: number): Promise<{ id: number; emailKey: string }[]> {
  return db
    .selectFrom('deliveries')
    .innerJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
    .select(['deliveries.id as id', 'subscribers.email_key as emailKey'])
    .where('deliveries.issue_id', '=', issueId)
    .where(sql<boolean>`deliveries.status = 'queued'`)
    .execute();
}

export async function countSuppressions(db: Db): Promise<number> {
  const row = await db
    .selectFrom('suppressions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Which of these address hashes are suppressed (as many as an issue has recipients). */
export async function findSuppressedHashes(db: Db, hashes: readonly string[]): Promise<Set<string>> {
  const rows = await inChunks(hashes, (chunk) =>
    db.selectFrom('suppressions').select('email_hash').where('email_hash', 'in', chunk).execute(),
  );
  return new Set(rows.map((r) => r.email_hash));
}

/** Of these subscribers, the ones still confirmed, with their address keys (re-checked just before sending). */
export async function findConfirmedSubscriberKeys(db: Db, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  // coalesce(): by primary key, not by the (status, id) index that would walk every confirmed row.
  const rows = await db
    .selectFrom('subscribers')
    .select(['id', 'email_key'])
    .where('id', 'in', ids)
    .where(sql<boolean>`coalesce(status, '') = 'confirmed'`)
    .execute();
  return new Map(rows.map((r) => [r.id, r.email_key]));
}

export async function setIssueQueued(db: Db, issueId: number, recipientCount: number, now: string): Promise<void> {
  await db
    .updateTable('newsletter_issues')
    .set({ status: 'sending', recipient_count: recipientCount, queued_at: now })
    .where('id', '=', issueId)
    .execute();
}

/** An issue's deliveries that were not skipped: its recipients. */
export async function countDeliveries(db: Db, issueId: number): Promise<number> {
  const counts = await countDeliveriesByStatus(db, issueId);
  return counts.queued + counts.sending + counts.sent + counts.failed;
}

/** A claimed delivery: what the worker needs to send it. */
export interface ClaimedDelivery {
  id: number;
  issue_id: number;
  subscriber_id: number | null;
  email: string;
  attempts: number;
}

/**
 * Claims up to `limit` due deliveries for `workerId` in one atomic statement (`queued` → `sending`).
 * SQLite: one `UPDATE … WHERE id IN (SELECT …) RETURNING`, atomic because SQLite has one writer at a time.
 * PostgreSQL: the subquery takes its rows `FOR UPDATE SKIP LOCKED`, so concurrent workers claim disjoint
 * batches without waiting on each other. Ordered by (next_attempt_at, id), the order of `deliveries_due`.
 */
export async function claimDeliveries(
  db: Db,
  workerId: string,
  now: string,
  limit: number,
): Promise<ClaimedDelivery[]> {
  const result = await sql<ClaimedDelivery>`
    UPDATE deliveries SET status = 'sending', claimed_by = ${workerId}, claimed_at = ${now}
    WHERE id IN (${dueDeliveryIds(db, now, limit)})
    RETURNING id, issue_id, subscriber_id, email, attempts`.execute(db);
  return result.rows
    .map((r) => ({ ...r, id: Number(r.id), issue_id: Number(r.issue_id), attempts: Number(r.attempts) }))
    .sort((a, b) => a.id - b.id);
}

/**
 * The claim's choice of rows: the first `limit` due ones in the order of `deliveries_due`, read from it.
 * SQLite is told the index (INDEXED BY: the statement fails to prepare rather than quietly read another
 * way): without ANALYZE statistics its planner prefers `deliveries_open` for `status = 'queued'`, an
 * equality, and would then read and sort every queued row for each claim. Exported for its plan's test.
 */
export function dueDeliveryIds(db: Db, now: string, limit: number) {
  const postgres = isPostgres(db);
  return sql<{ id: number }>`SELECT id FROM deliveries${postgres ? sql`` : sql` INDEXED BY deliveries_due`}
      WHERE status = 'queued' AND next_attempt_at <= ${now}
      ORDER BY next_attempt_at, id LIMIT ${limit}${postgres ? sql` FOR UPDATE SKIP LOCKED` : sql``}`;
}

/** The SMTP server accepted the message. Recorded whoever holds the claim now: it must not go out again. */
export async function markSent(db: Db, id: number, messageId: string, now: string): Promise<void> {
  await db
    .updateTable('deliveries')
    .set((eb) => ({
      status: 'sent',
      sent_at: now,
      message_id: messageId,
      attempts: eb('attempts', '+', 1),
      last_error: null,
    }))
    .where('id', '=', id)
    .where(statusIn(['sending', 'queued']))
    .execute();
}

/** Many accepted messages, delivery id → the Message-ID it was sent with, recorded in one statement (a group commit). */
export async function markSentMany(db: Db, messageIds: ReadonlyMap<number, string>, now: string): Promise<void> {
  if (messageIds.size === 0) return;
  const ids = [...messageIds.keys()];
  await db
    .updateTable('deliveries')
    .set((eb) => ({
      status: 'sent',
      sent_at: now,
      message_id: textByKey('id', messageIds),
      attempts: eb('attempts', '+', 1),
      last_error: null,
    }))
    .where('id', 'in', ids)
    .where(statusIn(['sending', 'queued']))
    .execute();
}

/** A temporary failure: back to the queue, due again at `nextAttemptAt`. */
export async function markRetry(
  db: Db,
  id: number,
  workerId: string,
  error: string,
  nextAttemptAt: string,
): Promise<void> {
  await db
    .updateTable('deliveries')
    .set((eb) => ({
      status: 'queued',
      attempts: eb('attempts', '+', 1),
      last_error: error,
      next_attempt_at: nextAttemptAt,
      claimed_by: null,
      claimed_at: null,
    }))
    .where('id', '=', id)
    .where(statusIn(['sending']))
    .where('claimed_by', '=', workerId)
    .execute();
}

/** A permanent failure (5xx for this recipient, or too many temporary ones): never retried. */
export async function markFailed(db: Db, id: number, workerId: string, error: string): Promise<void> {
  await db
    .updateTable('deliveries')
    .set((eb) => ({ status: 'failed', attempts: eb('attempts', '+', 1), last_error: error }))
    .where('id', '=', id)
    .where(statusIn(['sending']))
    .where('claimed_by', '=', workerId)
    .execute();
}

/** Recipients who unsubscribed, were erased or suppressed before their turn. */
export async function markSkipped(db: Db, ids: readonly number[], reason: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('deliveries')
    .set({ status: 'skipped', last_error: reason })
    .where('id', 'in', ids)
    .where(statusIn(['queued', 'sending']))
    .execute();
}

/** Gives unsent claims back (a pause or a shutdown), due at `dueAt`; no attempt is counted. */
export async function releaseClaims(db: Db, ids: readonly number[], workerId: string, dueAt: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('deliveries')
    .set({ status: 'queued', claimed_by: null, claimed_at: null, next_attempt_at: dueAt })
    .where('id', 'in', ids)
    .where(statusIn(['sending']))
    .where('claimed_by', '=', workerId)
    .execute();
}

/** Keeps this worker's claims from looking stale while it is alive and busy. */
export async function renewClaims(db: Db, workerId: string, now: string, ids?: readonly number[]): Promise<void> {
  if (ids?.length === 0) return;
  // With `ids`, only the claims in hand: one the worker lost to a failed write must expire and go back.
  const mine = db
    .selectFrom('deliveries')
    .select('id')
    .where(isSending)
    .where('claimed_by', '=', workerId)
    .$if(ids !== undefined, (qb) => qb.where('id', 'in', ids ?? []));
  await db
    .updateTable('deliveries')
    .set({ claimed_at: now })
    .where('id', 'in', renewalSkipsLockedRows(db) ? mine.forUpdate().skipLocked() : mine)
    .execute();
}

/** The workers holding claims now. */
export async function listClaimants(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('deliveries').select('claimed_by').distinct().where(isSending).execute();
  return rows.map((r) => r.claimed_by).filter((w): w is string => w !== null);
}

/**
 * Puts back in the queue the claims of workers that died: those not renewed since `staleBefore`, and those of
 * the named workers (known dead). Resolves with the number of rows released.
 */
export async function releaseStaleClaims(
  db: Db,
  staleBefore: string,
  deadWorkers: readonly string[],
  keep: readonly number[] = [],
): Promise<number> {
  const result = await db
    .updateTable('deliveries')
    .set({ status: 'queued', claimed_by: null, claimed_at: null })
    .where(isSending)
    // The caller's own claims in hand (`keep`) are not stale, whatever their time says.
    .$if(keep.length > 0, (qb) => qb.where('id', 'not in', keep))
    .where((eb) =>
      deadWorkers.length > 0
        ? eb.or([eb('claimed_at', '<', staleBefore), eb('claimed_by', 'in', deadWorkers)])
        : eb('claimed_at', '<', staleBefore),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Marks `sent` the issues being sent that have nothing queued or in flight any more, and queues their
 * `newsletter.sent` webhook events in the same transaction (so an issue is announced once, whichever worker
 * finishes it).
 */
export async function finishIssues(db: Db, now: string): Promise<number[]> {
  return inTransaction(db, async (trx) => {
    const rows = await trx
      .updateTable('newsletter_issues')
      .set({ status: 'sent', finished_at: now })
      .where('status', '=', 'sending')
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('deliveries')
              .select('deliveries.id')
              .whereRef('deliveries.issue_id', '=', 'newsletter_issues.id')
              .where(isOpen),
          ),
        ),
      )
      .returning(['id', 'subject', 'queued_at', 'recipient_count'])
      .execute();
    if (rows.length > 0) {
      const counts = await countDeliveriesByIssue(
        trx,
        rows.map((r) => r.id),
      );
      const events = rows.map((r) => {
        const c = counts.get(r.id);
        const issue = {
          id: String(r.id),
          subject: r.subject,
          queued_at: r.queued_at,
          finished_at: now,
          recipients: Number(r.recipient_count),
          sent: c?.sent ?? 0,
          failed: c?.failed ?? 0,
          skipped: c?.skipped ?? 0,
        };
        return { type: 'newsletter.sent' as const, subject: `newsletter:${r.id}`, data: { newsletter: issue } };
      });
      await emitWebhookEvents(trx, events, new Date(now));
    }
    return rows.map((r) => r.id);
  });
}

export type DeliveryCounts = Record<DeliveryStatus, number>;

/** How many deliveries of an issue are in each state. */
export async function countDeliveriesByStatus(db: Db, issueId: number): Promise<DeliveryCounts> {
  return (
    (await countDeliveriesByIssue(db, [issueId])).get(issueId) ?? {
      queued: 0,
      sending: 0,
      sent: 0,
      failed: 0,
      skipped: 0,
    }
  );
}

/** Counts a hard bounce against a subscriber; resolves with their new total. */
export async function addHardBounce(db: Db, subscriberId: number): Promise<number> {
  const row = await db
    .updateTable('subscribers')
    .set((eb) => ({ hard_bounce_count: eb('hard_bounce_count', '+', 1) }))
    .where('id', '=', subscriberId)
    .returning('hard_bounce_count')
    .executeTakeFirst();
  return row?.hard_bounce_count ?? 0;
}

/** Never mail this address hash again. */
export async function insertSuppression(
  db: Db,
  emailHash: string,
  reason: 'erased' | 'bounced',
  now: string,
): Promise<void> {
  await db
    .insertInto('suppressions')
    .values({ email_hash: emailHash, reason, created_at: now })
    .onConflict((oc) => oc.column('email_hash').doNothing())
    .execute();
}

/**
 * Deliveries of several issues counted by state (the newsroom's issue list, progress bars). One count per
 * partial index, each read from the index alone: open rows, sent rows, failed and skipped rows.
 */
export async function countDeliveriesByIssue(
  db: Db,
  issueIds: readonly number[],
): Promise<Map<number, DeliveryCounts>> {
  const out = new Map<number, DeliveryCounts>();
  if (issueIds.length === 0) return out;
  const counted = (condition: typeof isOpen) =>
    db
      .selectFrom('deliveries')
      .select(['issue_id', 'status', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('issue_id', 'in', issueIds)
      .where(condition)
      .groupBy(['issue_id', 'status']);
  const rows = await counted(isOpen).unionAll(counted(isSent)).unionAll(counted(isClosed)).execute();
  for (const id of issueIds) out.set(id, { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 });
  for (const row of rows) {
    const counts = out.get(row.issue_id);
    if (counts) counts[row.status] = Number(row.n);
  }
  return out;
}

/**
 * Messages of an issue accepted per minute (`YYYY-MM-DDTHH:MM`) or per hour (`YYYY-MM-DDTHH`), in time
 * order: the "messages sent over time" chart. Reads only the index of sent rows by (issue_id, sent_at).
 */
export async function countSentPerPeriod(
  db: Db,
  issueId: number,
  period: 'minute' | 'hour',
): Promise<{ period: string; count: number }[]> {
  const bucket = period === 'minute' ? sql<string>`substr(sent_at, 1, 16)` : sql<string>`substr(sent_at, 1, 13)`;
  const rows = await db
    .selectFrom('deliveries')
    .select([bucket.as('period'), (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('issue_id', '=', issueId)
    .where(isSent)
    .where('sent_at', 'is not', null)
    .groupBy(bucket)
    .orderBy(bucket)
    .execute();
  return rows.map((r) => ({ period: r.period, count: Number(r.n) }));
}

/** The first and last acceptance time of an issue's messages (null when none went out yet). */
export async function sentTimeSpan(db: Db, issueId: number): Promise<{ first: string; last: string } | null> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => [eb.fn.min('sent_at').as('first'), eb.fn.max('sent_at').as('last')])
    .where('issue_id', '=', issueId)
    .where(isSent)
    .where('sent_at', 'is not', null)
    .executeTakeFirst();
  return row?.first && row.last ? { first: row.first, last: row.last } : null;
}

/** Published articles by id, with their slugs (to compose an issue from the newsroom's picks). */
export async function findPublishedSlugs(db: Db, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('articles')
    .select(['id', 'slug'])
    .where('id', 'in', ids)
    .where('status', '=', 'published')
    .execute();
  return new Map(rows.map((r) => [r.id, r.slug]));
}

/** A delivery as a bounce or complaint needs it: which issue, which subscriber (null once erased). */
export async function findDeliveryById(
  db: Db,
  id: number,
): Promise<{ id: number; issue_id: number; subscriber_id: number | null; email: string } | undefined> {
  const row = await db
    .selectFrom('deliveries')
    .select(['id', 'issue_id', 'subscriber_id', 'email'])
    .where('id', '=', id)
    .executeTakeFirst();
  return (
    row && {
      ...row,
      id: Number(row.id),
      issue_id: Number(row.issue_id),
      subscriber_id: row.subscriber_id === null ? null : Number(row.subscriber_id),
    }
  );
}
