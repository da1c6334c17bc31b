import type { Db } from '../../db/index.ts';
import type { NewBounceEvent, NewQuarantine, QuarantineRow } from './bounces.table.ts';

// SQL for bounce events and the quarantine. Plain functions taking `db` (or a transaction) first; rules
// live in bounces.service.ts.

/**
 * Records a bounce or complaint unless this delivery already has one of this kind (the same report read
 * twice, or a second DSN for one message). Resolves with whether it was new: only then does it count.
 */
export async function insertBounceEvent(db: Db, event: NewBounceEvent): Promise<boolean> {
  const row = await db
    .insertInto('bounce_events')
    .values(event)
    .onConflict((oc) => oc.columns(['delivery_id', 'kind']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Soft bounces of one subscriber since `since` (each delivery counted once, by the unique key). */
export async function countSoftBounces(db: Db, subscriberId: number, since: string): Promise<number> {
  const row = await db
    .selectFrom('bounce_events')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('subscriber_id', '=', subscriberId)
    .where('kind', '=', 'soft')
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Keeps a message for review, once per content; resolves with its row id (the existing one for a repeat). */
export async function quarantineMessage(db: Db, row: NewQuarantine): Promise<{ id: number; repeated: boolean }> {
  const inserted = await db
    .insertInto('bounce_quarantine')
    .values(row)
    .onConflict((oc) => oc.column('message_hash').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { id: Number(inserted.id), repeated: false };
  const existing = await db
    .selectFrom('bounce_quarantine')
    .select('id')
    .where('message_hash', '=', row.message_hash)
    .executeTakeFirstOrThrow();
  return { id: Number(existing.id), repeated: true };
}

/** The newest quarantined messages, without their bodies. */
export async function listQuarantine(db: Db, limit: number): Promise<Omit<QuarantineRow, 'message'>[]> {
  return db
    .selectFrom('bounce_quarantine')
    .select(['id', 'message_hash', 'reason', 'class', 'summary', 'subject', 'sender', 'received_at'])
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
