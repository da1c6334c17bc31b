import { sql } from 'kysely';
import type { Db } from '../../db/index.ts';

// The SQL of rate limits. Plain functions taking `db` (or a transaction) first.

/**
 * Counts one hit on `key` if it is under `limit`, in one statement (an upsert whose update is conditional),
 * so that simultaneous hits from any number of processes can never all pass: the row lock (PostgreSQL) or
 * the write lock (SQLite) orders them. An expired window starts again at 1. Returns whether it counted.
 */
export async function takeHit(db: Db, key: string, limit: number, now: string, expiresAt: string): Promise<boolean> {
  const row = await db
    .insertInto('rate_limits')
    .values({ key, hits: 1, expires_at: expiresAt })
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet({
          hits: sql<number>`case when rate_limits.expires_at <= ${now} then 1 else rate_limits.hits + 1 end`,
          expires_at: sql<string>`case when rate_limits.expires_at <= ${now} then excluded.expires_at else rate_limits.expires_at end`,
        })
        .where(sql<boolean>`rate_limits.expires_at <= ${now} or rate_limits.hits < ${limit}`),
    )
    .returning('hits')
    .executeTakeFirst();
  return row !== undefined;
}

/** When `key`'s window ends, if it has one (for Retry-After). */
export async function findExpiry(db: Db, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('rate_limits').select('expires_at').where('key', '=', key).executeTakeFirst();
  return row?.expires_at;
}

/** Gives one hit back (a sign-in that succeeded was not an attempt to guess). */
export async function refundHit(db: Db, key: string): Promise<void> {
  await db.updateTable('rate_limits').set({ hits: sql<number>`hits - 1` }).where('key', '=', key).where('hits', '>', 0).execute();
}

export async function clearKey(db: Db, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute();
}

/** Deletes at most `batch` expired rows, oldest first, through the `expires_at` index: bounded work per call. */
export async function deleteExpired(db: Db, now: string, batch: number): Promise<number> {
  const result = await db
    .deleteFrom('rate_limits')
    .where('key', 'in', (eb) => eb.selectFrom('rate_limits').select('key').where('expires_at', '<=', now).orderBy('expires_at').limit(batch))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function countRateLimitRows(db: Db): Promise<number> {
  const row = await db.selectFrom('rate_limits').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
