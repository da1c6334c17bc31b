import { renewalSkipsLockedRows, statusIn, textByKey } from '../../db/conditions.ts';
import type { Db } from '../../db/index.ts';
import type {
  NewSubscriber,
  NewSubscriberMail,
  SubscriberMailKind,
  SubscriberMailStatus,
  SubscriberRow,
} from './subscribers.table.ts';

// SQL of the sign-up's batched writes and of the subscriber-mail queue. Every state change of a mail is
// one statement guarded by the state it leaves, as for newsletter deliveries, so two senders never both
// move the same row.

/**
 * Inserts the subscribers whose addresses are not known yet, in one statement, and returns the new rows
 * by `email_key`. The caller passes distinct keys; a key that is known (or taken by a racing process) is
 * left out of the result.
 */
export async function insertSubscribersIfAbsent(
  db: Db,
  subscribers: NewSubscriber[],
): Promise<Map<string, SubscriberRow>> {
  if (subscribers.length === 0) return new Map();
  const rows = await db
    .insertInto('subscribers')
    .values(subscribers)
    .onConflict((oc) => oc.column('email_key').doNothing())
    .returningAll()
    .execute();
  return new Map(rows.map((r) => [r.email_key, r]));
}

export async function findSubscribersByEmailKeys(
  db: Db,
  emailKeys: readonly string[],
): Promise<Map<string, SubscriberRow>> {
  if (emailKeys.length === 0) return new Map();
  const rows = await db.selectFrom('subscribers').selectAll().where('email_key', 'in', emailKeys).execute();
  return new Map(rows.map((r) => [r.email_key, r]));
}

/** Queues mails (at most one per subscriber per call); returns their ids by subscriber id. */
export async function insertSubscriberMails(db: Db, mails: NewSubscriberMail[]): Promise<Map<number, number>> {
  if (mails.length === 0) return new Map();
  // RETURNING order is not guaranteed (SQLite says so outright), hence the map by subscriber.
  const rows = await db.insertInto('subscriber_mails').values(mails).returning(['id', 'subscriber_id']).execute();
  return new Map(rows.map((r) => [r.subscriber_id, r.id]));
}

/**
 * Skips the still-queued confirmation mails of these subscribers: a newer sign-up's mail, carrying the same
 * live link, is being queued in the same transaction, so one mail is enough. Mails already being sent go on.
 */
export async function skipQueuedConfirmMails(db: Db, subscriberIds: readonly number[]): Promise<void> {
  if (subscriberIds.length === 0) return;
  await db
    .updateTable('subscriber_mails')
    .set({ status: 'skipped', last_error: 'superseded by a newer sign-up (same link)' })
    .where('subscriber_id', 'in', subscriberIds)
    .where('kind', '=', 'confirm')
    .where(statusIn(['queued']))
    .execute();
}

/** A claimed mail with what is needed to write it. */
export interface ClaimedSubscriberMail {
  id: number;
  subscriber_id: number;
  kind: SubscriberMailKind;
  confirm_nonce: string | null;
  attempts: number;
}

function toClaimed(rows: ClaimedSubscriberMail[]): ClaimedSubscriberMail[] {
  return rows
    .map((r) => ({ ...r, id: Number(r.id), subscriber_id: Number(r.subscriber_id), attempts: Number(r.attempts) }))
    .sort((a, b) => a.id - b.id);
}

/** Claims these queued mails for `senderId` (`queued` → `sending`); those already taken are left out. */
export async function claimSubscriberMails(
  db: Db,
  ids: readonly number[],
  senderId: string,
  now: string,
): Promise<ClaimedSubscriberMail[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('subscriber_mails')
    .set({ status: 'sending', claimed_by: senderId, claimed_at: now })
    .where('id', 'in', ids)
    .where(statusIn(['queued']))
    .returning(['id', 'subscriber_id', 'kind', 'confirm_nonce', 'attempts'])
    .execute();
  return toClaimed(rows);
}

/**
 * The ids of queued mails that are due, oldest first: a plain read, so an idle poll takes no write lock on
 * SQLite. The caller then claims them with `claimSubscriberMails`, which skips any another sender took.
 */
export async function findDueSubscriberMails(db: Db, now: string, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('subscriber_mails')
    .select('id')
    .where('status', '=', 'queued')
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => Number(r.id));
}

/** Accepted by the SMTP server (mail id → the Message-ID it was sent with): one statement for the whole group. */
export async function markSubscriberMailsSent(
  db: Db,
  messageIds: ReadonlyMap<number, string>,
  now: string,
): Promise<void> {
  if (messageIds.size === 0) return;
  const ids = [...messageIds.keys()];
  await db
    .updateTable('subscriber_mails')
    .set((eb) => ({
      status: 'sent',
      sent_at: now,
      attempts: eb('attempts', '+', 1),
      last_error: null,
      message_id: textByKey('id', messageIds),
    }))
    .where('id', 'in', ids)
    .where(statusIn(['sending', 'queued']))
    .execute();
}

/** A temporary failure: back in the queue, due at `nextAttemptAt`, one attempt counted. */
export async function markSubscriberMailRetry(
  db: Db,
  id: number,
  senderId: string,
  error: string,
  nextAttemptAt: string,
): Promise<void> {
  await db
    .updateTable('subscriber_mails')
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
    .where('claimed_by', '=', senderId)
    .execute();
}

/** Never to be retried: a permanent refusal, too many temporary ones, or nothing left to send (skipped). */
export async function finishSubscriberMail(
  db: Db,
  id: number,
  senderId: string,
  status: 'failed' | 'skipped',
  reason: string,
): Promise<void> {
  await db
    .updateTable('subscriber_mails')
    .set((eb) => ({
      status,
      attempts: status === 'failed' ? eb('attempts', '+', 1) : eb.ref('attempts'),
      last_error: reason,
    }))
    .where('id', '=', id)
    .where(statusIn(['sending']))
    .where('claimed_by', '=', senderId)
    .execute();
}

/** Gives claims back untouched (the SMTP server is down, or the sender stops), due at `dueAt`. */
export async function releaseSubscriberMails(
  db: Db,
  ids: readonly number[],
  senderId: string,
  dueAt: string,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('subscriber_mails')
    .set({ status: 'queued', claimed_by: null, claimed_at: null, next_attempt_at: dueAt })
    .where('id', 'in', ids)
    .where(statusIn(['sending']))
    .where('claimed_by', '=', senderId)
    .execute();
}

/**
 * Keeps the claims this sender is working on from looking abandoned. Only those: a claim it lost track of
 * (a write that failed) must expire, so that the sweep gives it back.
 */
export async function renewSubscriberMailClaims(
  db: Db,
  senderId: string,
  ids: readonly number[],
  now: string,
): Promise<void> {
  if (ids.length === 0) return;
  const mine = db
    .selectFrom('subscriber_mails')
    .select('id')
    .where('id', 'in', ids)
    .where('status', '=', 'sending')
    .where('claimed_by', '=', senderId);
  await db
    .updateTable('subscriber_mails')
    .set({ claimed_at: now })
    .where('id', 'in', renewalSkipsLockedRows(db) ? mine.forUpdate().skipLocked() : mine)
    .execute();
}

/** The senders holding claims now. */
export async function listSubscriberMailClaimants(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('subscriber_mails')
    .select('claimed_by')
    .distinct()
    .where('status', '=', 'sending')
    .execute();
  return rows.map((r) => r.claimed_by).filter((c): c is string => c !== null);
}

/**
 * Puts back in the queue the claims of senders that died: those not renewed since `staleBefore` (the
 * caller's own too, but for `keep`, the ones it is still working on), and those of the named senders (known
 * dead). Resolves with the number of mails released.
 */
export async function releaseStaleSubscriberMails(
  db: Db,
  staleBefore: string,
  deadSenders: readonly string[],
  keep: readonly number[] = [],
): Promise<number> {
  const result = await db
    .updateTable('subscriber_mails')
    .set({ status: 'queued', claimed_by: null, claimed_at: null })
    .where('status', '=', 'sending')
    .$if(keep.length > 0, (qb) => qb.where('id', 'not in', keep))
    .where((eb) =>
      deadSenders.length > 0
        ? eb.or([eb('claimed_at', '<', staleBefore), eb('claimed_by', 'in', deadSenders)])
        : eb('claimed_at', '<', staleBefore),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** What writing a subscriber mail needs of its recipient. */
export type MailRecipient = Pick<SubscriberRow, 'id' | 'email' | 'status' | 'confirm_nonce' | 'confirm_sent_at'>;

/** The recipients of claimed mails, as they are now. */
export async function findMailRecipients(
  db: Db,
  subscriberIds: readonly number[],
): Promise<Map<number, MailRecipient>> {
  if (subscriberIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('subscribers')
    .select(['id', 'email', 'status', 'confirm_nonce', 'confirm_sent_at'])
    .where('id', 'in', subscriberIds)
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** How many subscriber mails are in each state (the benches and `/readyz`-style checks read this). */
export async function countSubscriberMailsByStatus(db: Db): Promise<Record<SubscriberMailStatus, number>> {
  const rows = await db
    .selectFrom('subscriber_mails')
    .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy('status')
    .execute();
  const counts: Record<SubscriberMailStatus, number> = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}
