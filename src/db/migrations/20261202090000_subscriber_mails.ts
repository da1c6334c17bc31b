// Frozen once landed. The queue of subscriber mails: the confirmation link after a sign-up, or "you are
// already subscribed". A row is written in the sign-up's own transaction, so an accepted sign-up always has
// its mail on record even if the process dies or the SMTP server is down at that moment; the web process
// sends it at once and every web process retries what is left. Rows go with their subscriber (erasure).
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('subscriber_mails')
    .ifNotExists()
    .$call((b) => (isPostgres ? b.addColumn('id', 'serial', (c) => c.primaryKey()) : b.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())))
    .addColumn('subscriber_id', 'integer', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull()) // confirm | already_subscribed
    .addColumn('confirm_nonce', 'text') // kind confirm: the nonce this link carries; a newer sign-up supersedes it
    .addColumn('status', 'text', (c) => c.notNull()) // queued | sending | sent | failed | skipped
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_at', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('message_id', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('subscriber_mails_claim').ifNotExists().on('subscriber_mails').columns(['status', 'next_attempt_at', 'id']).execute();
  // Erasure deletes a subscriber's mails by this foreign key (ON DELETE CASCADE).
  await db.schema.createIndex('subscriber_mails_subscriber').ifNotExists().on('subscriber_mails').column('subscriber_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('subscriber_mails').ifExists().execute();
}
