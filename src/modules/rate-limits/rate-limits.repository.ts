import { sql } from 'kysely';
import type { Db } from '../../db/index.ts';

// The SQL of rate limits. Plain functions taking `db` (or a transaction) first.

/**
 * Counts `count` hits on each key, as many as fit under `limit`, in one statement for the whole batch: an
 * upsert that computes how many fit from the row as it stands when the statement reaches it (the row lock
 * on PostgreSQL, the write lock on SQLite order simultaneous statements of any process), so a burst can
 * never slip past between a check and a write. An expired window starts again. Returns, per key, how many
 * of its hits were counted. Keys must be distinct (PostgreSQL updates a row once per statement).
 */
export async function takeHits(
  db: Db,
  requests: readonly { key: string; count: number }[],
  limit: number,
  now: string,
  expiresAt: string,
): Promise<Map<string, number>> {
  if (requests.length === 0) return new Map();
  const max = sql<number>`cast(${limit} as integer)`;
  const expired = sql<boolean>`rate_limits.expires_at <= ${now}`;
  // excluded.hits is what was asked for (at most the limit); room is how much of it still fits.
  const room = sql<number>`case when rate_limits.hits >= ${max} then 0 when rate_limits.hits + excluded.hits <= ${max} then excluded.hits else ${max} - rate_limits.hits end`;
  const rows = await db
    .insertInto('rate_limits')
    .values(
      requests.map((r) => ({
        key: r.key,
        hits: Math.min(r.count, limit),
        granted: Math.min(r.count, limit),
        expires_at: expiresAt,
      })),
    )
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        hits: sql<number>`case when ${expired} then excluded.hits else rate_limits.hits + ${room} end`,
        granted: sql<number>`case when ${expired} then excluded.hits else ${room} end`,
        expires_at: sql<string>`case when ${expired} then excluded.expires_at else rate_limits.expires_at end`,
      }),
    )
    .returning(['key', 'granted'])
    .execute();
  return new Map(rows.map((row) => [row.key, Number(row.granted)]));
}

/** When `key`'s window ends, if it has one (for Retry-After). */
export async function findExpiry(db: Db, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('rate_limits').select('expires_at').where('key', '=', key).executeTakeFirst();
  return row?.expires_at;
}

/** Gives one hit back (a sign-in that succeeded was not an attempt to guess). */
export async function refundHit(db: Db, key: string): Promise<void> {
  await db
    .updateTable('rate_limits')
    .set({ hits: sql<number>`hits - 1` })
    .where('key', '=', key)
    .where('hits', '>', 0)
    .execute();
}

export async function clearKey(db: Db, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute();
}

/** Deletes at most `batch` expired rows, oldest first, through the `expires_at` index: bounded work per call. */
export async function deleteExpired(db: Db, now: string, batch: number): Promise<number> {
  const result = await db
    .deleteFrom('rate_limits')
    .where('key', 'in', (eb) =>
      eb.selectFrom('rate_limits').select('key').where('expires_at', '<=', now).orderBy('expires_at').limit(batch),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function countRateLimitRows(db: Db): Promise<number> {
  const row = await db
    .selectFrom('rate_limits')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
