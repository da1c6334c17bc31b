import { sql } from 'kysely';
import { renewalSkipsLockedRows, statusIn } from '../../db/conditions.ts';
import type { Db } from '../../db/index.ts';
import type { DeliveryStatus, WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow } from './webhooks.table.ts';

// SQL of webhook endpoints and of the delivery queue. As for the other queues, every state change of a
// delivery is one statement guarded by the state it leaves and by the claimant, so two workers never both
// move the same row.

export async function insertEndpoint(db: Db, row: Omit<WebhookEndpointRow, 'id'>): Promise<number> {
  const inserted = await db.insertInto('webhook_endpoints').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(inserted.id);
}

export async function listEndpoints(db: Db): Promise<WebhookEndpointRow[]> {
  return db.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute();
}

export async function findEndpoint(db: Db, id: number): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findEndpointsByIds(db: Db, ids: readonly number[]): Promise<WebhookEndpointRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('webhook_endpoints').selectAll().where('id', 'in', ids).execute();
}

/** Removes an endpoint with its queue and log (the foreign keys cascade). */
export async function deleteEndpoint(db: Db, id: number): Promise<boolean> {
  // SQLite cascades only with foreign_keys on (src/db/sqlite-driver.ts); the explicit deletes make it so anyway.
  return db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('webhook_attempts')
      .where('delivery_id', 'in', trx.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', id))
      .execute();
    await trx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
    const result = await trx.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  });
}

export async function replaceEndpointSecret(
  db: Db,
  id: number,
  secret: { sealed: string; previousSealed: string | null; previousUntil: string | null },
): Promise<boolean> {
  const result = await db
    .updateTable('webhook_endpoints')
    .set({
      secret_sealed: secret.sealed,
      previous_secret_sealed: secret.previousSealed,
      previous_secret_until: secret.previousUntil,
    })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Every endpoint's events, for the fan-out of an event (read in the transaction of the change). */
export async function listEndpointSubscriptions(db: Db): Promise<{ id: number; events: string }[]> {
  const rows = await db.selectFrom('webhook_endpoints').select(['id', 'events']).orderBy('id').execute();
  return rows.map((r) => ({ id: Number(r.id), events: r.events }));
}

export type NewDelivery = Pick<
  WebhookDeliveryRow,
  'endpoint_id' | 'message_id' | 'event' | 'subject' | 'payload' | 'next_attempt_at' | 'created_at'
>;

export async function insertDeliveries(db: Db, rows: readonly NewDelivery[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('webhook_deliveries')
    .values(rows.map((r) => ({ ...r, status: 'queued' as const })))
    .execute();
}

/** A claimed delivery, re-read by the claim. */
export interface ClaimedDelivery {
  id: number;
  endpoint_id: number;
  message_id: string;
  payload: string;
  attempts: number;
  created_at: string;
}

const openStatuses: readonly DeliveryStatus[] = ['queued', 'sending'];

/**
 * The ids of due deliveries that are first in line for their endpoint and subject: no earlier delivery of
 * the same subject to the same endpoint is still open (queued, perhaps for a later retry, or being sent).
 * That keeps one article's events in order at the receiver across retries. A plain read: the caller then
 * claims them with `claimDeliveries`, which skips any another worker took.
 */
export async function findDueDeliveries(db: Db, now: string, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('webhook_deliveries as d')
    .select('d.id')
    .where('d.status', '=', 'queued')
    .where('d.next_attempt_at', '<=', now)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('webhook_deliveries as e')
            .select('e.id')
            .whereRef('e.endpoint_id', '=', 'd.endpoint_id')
            .whereRef('e.subject', '=', 'd.subject')
            .whereRef('e.id', '<', 'd.id')
            .where('e.status', 'in', openStatuses),
        ),
      ),
    )
    .orderBy('d.next_attempt_at')
    .orderBy('d.id')
    .limit(limit)
    .execute();
  return rows.map((r) => Number(r.id));
}

/** Claims these queued deliveries for `claimant` (`queued` → `sending`); those already taken are left out. */
export async function claimDeliveries(
  db: Db,
  ids: readonly number[],
  claimant: string,
  now: string,
): Promise<ClaimedDelivery[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'sending', claimed_by: claimant, claimed_at: now })
    .where('id', 'in', ids)
    .where(statusIn(['queued']))
    .returning(['id', 'endpoint_id', 'message_id', 'payload', 'attempts', 'created_at'])
    .execute();
  return rows
    .map((r) => ({ ...r, id: Number(r.id), endpoint_id: Number(r.endpoint_id), attempts: Number(r.attempts) }))
    .sort((a, b) => a.id - b.id);
}

/** One attempt's result, as the log keeps it. */
export interface AttemptRecord {
  status: number | null;
  durationMs: number;
  error: string | null;
  excerpt: string | null;
}

/**
 * Records one attempt of a claimed delivery and where that leaves it: `delivered`, `failed` (given up), or
 * `queued` again for `nextAttemptAt`. Nothing happens if the claim was lost to another worker.
 */
export async function recordAttempt(
  db: Db,
  c: {
    id: number;
    claimant: string;
    at: string;
    attempt: AttemptRecord;
    outcome: { status: 'delivered' | 'failed' } | { status: 'queued'; nextAttemptAt: string };
  },
): Promise<void> {
  const { id, claimant, at, attempt, outcome } = c;
  const result = await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      status: outcome.status,
      attempts: eb('attempts', '+', 1),
      last_status: attempt.status,
      last_duration_ms: attempt.durationMs,
      last_error: attempt.error,
      claimed_by: null,
      claimed_at: null,
      ...(outcome.status === 'queued' ? { next_attempt_at: outcome.nextAttemptAt } : { finished_at: at }),
    }))
    .where('id', '=', id)
    .where(statusIn(['sending']))
    .where('claimed_by', '=', claimant)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return;
  await db
    .insertInto('webhook_attempts')
    .values({
      delivery_id: id,
      attempted_at: at,
      status_code: attempt.status,
      duration_ms: attempt.durationMs,
      error: attempt.error,
      response_excerpt: attempt.excerpt,
    })
    .execute();
}

/** Gives claims back untouched (a stop), due at `dueAt`. */
export async function releaseDeliveries(
  db: Db,
  ids: readonly number[],
  claimant: string,
  dueAt: string,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'queued', claimed_by: null, claimed_at: null, next_attempt_at: dueAt })
    .where('id', 'in', ids)
    .where(statusIn(['sending']))
    .where('claimed_by', '=', claimant)
    .execute();
}

export async function renewDeliveryClaims(
  db: Db,
  claimant: string,
  ids: readonly number[],
  now: string,
): Promise<void> {
  if (ids.length === 0) return;
  const mine = db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('id', 'in', ids)
    .where('status', '=', 'sending')
    .where('claimed_by', '=', claimant);
  await db
    .updateTable('webhook_deliveries')
    .set({ claimed_at: now })
    .where('id', 'in', renewalSkipsLockedRows(db) ? mine.forUpdate().skipLocked() : mine)
    .execute();
}

export async function listDeliveryClaimants(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select('claimed_by')
    .distinct()
    .where('status', '=', 'sending')
    .execute();
  return rows.map((r) => r.claimed_by).filter((c): c is string => c !== null);
}

/** Returns to the queue the claims not renewed since `staleBefore` and those of dead claimants, but `keep`. */
export async function releaseStaleDeliveries(
  db: Db,
  staleBefore: string,
  deadClaimants: readonly string[],
  keep: readonly number[],
): Promise<number> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'queued', claimed_by: null, claimed_at: null })
    .where('status', '=', 'sending')
    .$if(keep.length > 0, (qb) => qb.where('id', 'not in', keep))
    .where((eb) =>
      deadClaimants.length > 0
        ? eb.or([eb('claimed_at', '<', staleBefore), eb('claimed_by', 'in', deadClaimants)])
        : eb('claimed_at', '<', staleBefore),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** An endpoint's latest deliveries, newest first. */
export async function listRecentDeliveries(db: Db, endpointId: number, limit: number): Promise<WebhookDeliveryRow[]> {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function listAttempts(db: Db, deliveryIds: readonly number[]): Promise<WebhookAttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', deliveryIds).orderBy('id').execute();
}

/** How many deliveries of each endpoint are in each state. */
export async function countDeliveriesByEndpoint(db: Db): Promise<Map<number, Record<DeliveryStatus, number>>> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select(['endpoint_id', 'status', sql<number>`count(*)`.as('n')])
    .groupBy(['endpoint_id', 'status'])
    .execute();
  const counts = new Map<number, Record<DeliveryStatus, number>>();
  for (const row of rows) {
    const id = Number(row.endpoint_id);
    const entry = counts.get(id) ?? { queued: 0, sending: 0, delivered: 0, failed: 0 };
    entry[row.status] = Number(row.n);
    counts.set(id, entry);
  }
  return counts;
}
