import { PostgresAdapter, sql } from 'kysely';
import type { Db } from './index.ts';

/**
 * `status IN (…)` written so that no index can serve it, for a queue table's state guards (deliveries,
 * subscriber mails). Next to `id IN (…)`, a plain condition on status tempts SQLite's planner (with bound
 * parameters) into a status index, walking every queued row: 8 ms per statement at 100,000 deliveries
 * instead of microseconds by primary key.
 */
export function statusIn<S extends string>(statuses: readonly S[]) {
  return sql<boolean>`coalesce(status, '') in (${sql.join(statuses)})`;
}

/**
 * `CASE <column> WHEN k1 THEN v1 … END`: one text value per row of a multi-row UPDATE (each row's own
 * Message-ID, or new hash), so a group of rows is still written by one statement.
 */
export function textByKey(column: 'id' | 'email_hash', values: ReadonlyMap<number | string, string>) {
  return sql<string>`CASE ${sql.ref(column)} ${sql.join(
    [...values].map(([key, value]) => sql`WHEN ${key} THEN ${value}`),
    sql` `,
  )} END`;
}

/**
 * Whether a lease renewal should pass over rows another transaction is writing (`FOR UPDATE SKIP LOCKED` on
 * its choice of rows): PostgreSQL only, as SQLite has one writer and no row locks. A renewal of every claim
 * in hand locks hundreds of rows in the table's order while a group's record locks a few in the order of
 * its ids; the two deadlocked under load (1 s each before PostgreSQL chose a victim, and the record failed).
 * A row being recorded needs no renewal, and one whose record fails is renewed at the next turn.
 */
export function renewalSkipsLockedRows(db: Pick<Db, 'getExecutor'>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
