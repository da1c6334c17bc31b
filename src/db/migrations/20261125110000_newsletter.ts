// Frozen once landed. The newsletter: subscribers, their append-only consent events, suppressed address
// hashes (erased or bounced addresses, never mailed again), newsletter issues, and the delivery queue with
// one row per recipient per issue.
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const addId = (builder: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    isPostgres ? builder.addColumn('id', 'serial', (c) => c.primaryKey()) : builder.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await db.schema
    .createTable('subscribers')
    .ifNotExists()
    .$call(addId)
    .addColumn('email', 'text', (c) => c.notNull()) // as delivered: local part kept, domain in ASCII (punycode)
    .addColumn('email_key', 'text', (c) => c.notNull().unique()) // lower-cased, for "is this address known?"
    .addColumn('name', 'text')
    .addColumn('status', 'text', (c) => c.notNull()) // pending | confirmed | unsubscribed
    .addColumn('source', 'text', (c) => c.notNull()) // form | import
    .addColumn('confirm_nonce', 'text') // the one live confirmation link; cleared when used
    .addColumn('confirm_sent_at', 'text')
    .addColumn('hard_bounce_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('confirmed_at', 'text')
    .addColumn('unsubscribed_at', 'text')
    .execute();
  await db.schema.createIndex('subscribers_status').ifNotExists().on('subscribers').columns(['status', 'id']).execute();

  await db.schema
    .createTable('consent_events')
    .ifNotExists()
    .$call(addId)
    .addColumn('subscriber_id', 'integer', (c) => c.references('subscribers.id').onDelete('set null'))
    .addColumn('email_hash', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull()) // signup | confirmed | withdrawn | imported | erased
    .addColumn('terms_version', 'integer')
    .addColumn('terms_hash', 'text')
    .addColumn('privacy_version', 'integer')
    .addColumn('privacy_hash', 'text')
    .addColumn('form_wording', 'text')
    .addColumn('source_url', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('detail', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('consent_events_subscriber').ifNotExists().on('consent_events').column('subscriber_id').execute();
  await db.schema.createIndex('consent_events_email_hash').ifNotExists().on('consent_events').column('email_hash').execute();

  await db.schema
    .createTable('suppressions')
    .ifNotExists()
    .addColumn('email_hash', 'text', (c) => c.primaryKey())
    .addColumn('reason', 'text', (c) => c.notNull()) // erased | bounced
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('newsletter_issues')
    .ifNotExists()
    .$call(addId)
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('article_ids', 'text', (c) => c.notNull()) // JSON array, in the order
    .addColumn('html', 'text', (c) => c.notNull()) // rendered once, personalised per recipient at send time
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull()) // draft | sending | paused | sent
    .addColumn('recipient_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('queued_at', 'text')
    .addColumn('finished_at', 'text')
    .execute();

  await db.schema
    .createTable('deliveries')
    .ifNotExists()
    .$call(addId)
    .addColumn('issue_id', 'integer', (c) => c.notNull().references('newsletter_issues.id').onDelete('cascade'))
    .addColumn('subscriber_id', 'integer', (c) => c.references('subscribers.id').onDelete('set null'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull()) // queued | sending | sent | failed | skipped
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_at', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('message_id', 'text')
    .addColumn('last_error', 'text')
    .addUniqueConstraint('deliveries_issue_subscriber', ['issue_id', 'subscriber_id'])
    .execute();
  await db.schema.createIndex('deliveries_claim').ifNotExists().on('deliveries').columns(['status', 'next_attempt_at', 'id']).execute();
  await db.schema.createIndex('deliveries_issue_status').ifNotExists().on('deliveries').columns(['issue_id', 'status']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['deliveries', 'newsletter_issues', 'suppressions', 'consent_events', 'subscribers']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
