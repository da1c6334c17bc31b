import { sql } from 'kysely';

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
