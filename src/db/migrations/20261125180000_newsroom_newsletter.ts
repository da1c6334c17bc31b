// Frozen once landed. Indexes for the newsroom's newsletter screens:
// - `subscribers_confirmed_at`: the "subscribers over time" chart counts confirmations per day over a
//   window; without it, every view of the chart reads the whole list.
// - `deliveries_issue_sent_at`: the "messages sent over time" chart of one issue reads only its sent rows'
//   times, from the index, instead of every delivery row of the issue.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('subscribers_confirmed_at').ifNotExists().on('subscribers').column('confirmed_at').execute();
  await db.schema.createIndex('deliveries_issue_sent_at').ifNotExists().on('deliveries').columns(['issue_id', 'sent_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_issue_sent_at').ifExists().execute();
  await db.schema.dropIndex('subscribers_confirmed_at').ifExists().execute();
}
