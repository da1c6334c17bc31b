import { textByKey } from '../../db/conditions.ts';
import type { Db } from '../../db/index.ts';
import type { Database } from '../../db/database.ts';
import type {
  ConsentEventRow,
  NewConsentEvent,
  NewSubscriber,
  SubscriberRow,
  SubscribersTable,
  SubscriberStatus,
  SuppressionsTable,
} from './subscribers.table.ts';
import { type SelectQueryBuilder, sql, type Updateable } from 'kysely';

// SQL for subscribers, their consent events and suppressions. Plain functions taking `db` (or a
// transaction) first; rules live in subscribers.service.ts.

export async function findSubscriberById(db: Db, id: number): Promise<SubscriberRow | undefined> {
  return db.selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findSubscriberByEmailKey(db: Db, emailKey: string): Promise<SubscriberRow | undefined> {
  return db.selectFrom('subscribers').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
}

export async function updateSubscriber(db: Db, id: number, patch: Updateable<SubscribersTable>): Promise<void> {
  await db.updateTable('subscribers').set(patch).where('id', '=', id).execute();
}

/**
 * Confirms a pending subscriber whose live confirmation nonce is `nonce`, clearing the nonce so the link
 * works once. Returns false when the nonce was already used or replaced (a conditional update, so two
 * clicks racing confirm once).
 */
export async function confirmSubscriberByNonce(
  db: Db,
  id: number,
  nonce: string,
  confirmedAt: string,
): Promise<boolean> {
  const result = await db
    .updateTable('subscribers')
    .set({ status: 'confirmed', confirm_nonce: null, confirmed_at: confirmedAt, unsubscribed_at: null })
    .where('id', '=', id)
    .where('confirm_nonce', '=', nonce)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Withdraws a subscription; false when it was already withdrawn (so the event is recorded once). */
export async function unsubscribeSubscriber(db: Db, id: number, at: string): Promise<boolean> {
  const result = await db
    .updateTable('subscribers')
    .set({ status: 'unsubscribed', unsubscribed_at: at, confirm_nonce: null })
    .where('id', '=', id)
    .where('status', '!=', 'unsubscribed')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function insertConsentEvents(db: Db, events: NewConsentEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.insertInto('consent_events').values(events).execute();
}

export async function listConsentEvents(db: Db, subscriberId: number): Promise<ConsentEventRow[]> {
  return db.selectFrom('consent_events').selectAll().where('subscriber_id', '=', subscriberId).orderBy('id').execute();
}

export async function listConsentEventsByHash(db: Db, emailHash: string): Promise<ConsentEventRow[]> {
  return db.selectFrom('consent_events').selectAll().where('email_hash', '=', emailHash).orderBy('id').execute();
}

/** Of the given hashes, those suppressed. */
export async function findSuppressed(db: Db, emailHashes: string[]): Promise<Set<string>> {
  if (emailHashes.length === 0) return new Set();
  const rows = await db
    .selectFrom('suppressions')
    .select('email_hash')
    .where('email_hash', 'in', emailHashes)
    .execute();
  return new Set(rows.map((r) => r.email_hash));
}

export async function insertSuppression(
  db: Db,
  emailHash: string,
  reason: SuppressionsTable['reason'],
  at: string,
): Promise<void> {
  await db
    .insertInto('suppressions')
    .values({ email_hash: emailHash, reason, created_at: at })
    .onConflict((oc) => oc.column('email_hash').doNothing())
    .execute();
}

/**
 * Up to `limit` distinct address hashes of `table` still in the legacy unkeyed form (written before
 * hashes were keyed). Legacy hashes are lower-case hex and keyed ones start `k1:`, so `< 'k'` finds the
 * legacy ones by a range of the email_hash index (on every start-up; NOT LIKE would read the table).
 */
export async function listLegacyEmailHashes(
  db: Db,
  table: 'suppressions' | 'consent_events',
  limit: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom(table)
    .select('email_hash')
    .distinct()
    .where('email_hash', '<', 'k')
    .limit(limit)
    .execute();
  return rows.map((r) => r.email_hash);
}

/**
 * Rewrites legacy hashes to their keyed form (legacy → keyed). Suppressions are copied then removed, as
 * the keyed row may exist already (written by a process that had keyed its hashes); consent events are
 * updated in one statement. Rows already rewritten by another process are simply not found.
 */
export async function replaceEmailHashes(
  db: Db,
  table: 'suppressions' | 'consent_events',
  keyed: ReadonlyMap<string, string>,
): Promise<void> {
  if (keyed.size === 0) return;
  const legacy = [...keyed.keys()];
  if (table === 'consent_events') {
    await db
      .updateTable('consent_events')
      .set({ email_hash: textByKey('email_hash', keyed) })
      .where('email_hash', 'in', legacy)
      .execute();
    return;
  }
  const rows = await db.selectFrom('suppressions').selectAll().where('email_hash', 'in', legacy).execute();
  if (rows.length === 0) return;
  await db
    .insertInto('suppressions')
    .values(rows.map((r) => ({ ...r, email_hash: keyed.get(r.email_hash)! })))
    .onConflict((oc) => oc.column('email_hash').doNothing())
    .execute();
  await db
    .deleteFrom('suppressions')
    .where(
      'email_hash',
      'in',
      rows.map((r) => r.email_hash),
    )
    .execute();
}

/**
 * Erases a subscriber's row. Consent events stay, detached (`subscriber_id` null, keyed by the hash only);
 * queued deliveries are skipped and the address is blanked in the delivery log, which must not keep it.
 */
export async function deleteSubscriber(db: Db, id: number): Promise<void> {
  await db.updateTable('consent_events').set({ subscriber_id: null }).where('subscriber_id', '=', id).execute();
  await db
    .updateTable('deliveries')
    .set({ status: 'skipped', last_error: 'erased' })
    .where('subscriber_id', '=', id)
    .where('status', '=', 'queued')
    .execute();
  await db.updateTable('deliveries').set({ email: '', subscriber_id: null }).where('subscriber_id', '=', id).execute();
  await db.deleteFrom('subscribers').where('id', '=', id).execute();
}

/** Of the given keys, those already known. */
export async function findKnownEmailKeys(db: Db, emailKeys: string[]): Promise<Set<string>> {
  if (emailKeys.length === 0) return new Set();
  const rows = await db.selectFrom('subscribers').select('email_key').where('email_key', 'in', emailKeys).execute();
  return new Set(rows.map((r) => r.email_key));
}

/** Inserts many subscribers at once (an import batch); returns their ids by `email_key`. */
export async function insertSubscribers(db: Db, subscribers: NewSubscriber[]): Promise<Map<string, number>> {
  if (subscribers.length === 0) return new Map();
  const rows = await db.insertInto('subscribers').values(subscribers).returning(['id', 'email_key']).execute();
  return new Map(rows.map((r) => [r.email_key, r.id]));
}

/** A page of subscribers in id order, after `afterId` (for export without loading the whole list). */
export async function listSubscribersAfter(db: Db, afterId: number, limit: number): Promise<SubscriberRow[]> {
  return db.selectFrom('subscribers').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();
}

/** The consent events of several subscribers, in order (signup, imported and confirmed only). */
export async function listConsentEventsFor(db: Db, subscriberIds: number[]): Promise<ConsentEventRow[]> {
  if (subscriberIds.length === 0) return [];
  return db
    .selectFrom('consent_events')
    .selectAll()
    .where('subscriber_id', 'in', subscriberIds)
    .where('kind', 'in', ['signup', 'imported', 'confirmed'])
    .orderBy('id')
    .execute();
}

/** What the newsroom's subscriber list is filtered by. */
export interface SubscriberFilter {
  /** A substring of the address, any case; `%` and `_` in it are literal. */
  query?: string | undefined;
  status?: SubscriberStatus | undefined;
}

/** `email_key` is the lower-cased address, so a lower-cased pattern matches any case; `\` escapes LIKE's wildcards. */
function whereMatches<QB extends SelectQueryBuilder<Database, 'subscribers', object>>(
  qb: QB,
  query: string | undefined,
): QB {
  if (!query) return qb;
  const pattern = `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return qb.where(sql<boolean>`email_key like ${pattern} escape '\\'`) as QB;
}

/**
 * One page of the newsroom's subscriber list, newest first, after the keyset `beforeId` (so page 500 of a
 * 100,000-row list costs the same as page 1). Asks for one more than `limit`, so the caller knows whether
 * there is a next page.
 */
export async function listSubscribersPage(
  db: Db,
  filter: SubscriberFilter,
  beforeId: number | undefined,
  limit: number,
): Promise<SubscriberRow[]> {
  let qb = db.selectFrom('subscribers').selectAll();
  qb = whereMatches(qb, filter.query);
  if (filter.status) qb = qb.where('status', '=', filter.status);
  if (beforeId !== undefined) qb = qb.where('id', '<', beforeId);
  return qb
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
}

/** How many subscribers match the search in each status (every status present, zero when none). */
export async function countSubscribersByStatus(db: Db, query?: string): Promise<Record<SubscriberStatus, number>> {
  let qb = db.selectFrom('subscribers').select(['status', (eb) => eb.fn.countAll<number | string>().as('n')]);
  qb = whereMatches(qb, query);
  const rows = await qb.groupBy('status').execute();
  const counts: Record<SubscriberStatus, number> = { pending: 0, confirmed: 0, unsubscribed: 0 };
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}

/** Confirmations per UTC day (`YYYY-MM-DD`) from `since` on, in day order: the "subscribers over time" chart. */
export async function countConfirmedPerDay(db: Db, since: string): Promise<{ day: string; count: number }[]> {
  const day = sql<string>`substr(confirmed_at, 1, 10)`;
  const rows = await db
    .selectFrom('subscribers')
    .select([day.as('day'), (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('confirmed_at', '>=', since)
    .where('status', '=', 'confirmed')
    .groupBy(day)
    .orderBy(day)
    .execute();
  return rows.map((r) => ({ day: r.day, count: Number(r.n) }));
}
