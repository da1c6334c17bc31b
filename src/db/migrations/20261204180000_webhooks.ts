// Frozen once landed. Webhooks: endpoints an admin registered, the deliveries queued for them (one row per
// event and endpoint, written in the transaction of the change that caused the event: an outbox), and the
// log of each attempt with its status and response time.
import { type Kysely, PostgresAdapter, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('webhook_endpoints')
    .ifNotExists()
    .$call((b) => (isPostgres ? b.addColumn('id', 'serial', (c) => c.primaryKey()) : b.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull()) // JSON array of event names (`post.published`, `page.*`…)
    .addColumn('secret_sealed', 'text', (c) => c.notNull()) // the signing secret, sealed with the secret key
    .addColumn('previous_secret_sealed', 'text') // after a rotation, also signed with until previous_secret_until
    .addColumn('previous_secret_until', 'text')
    .addColumn('allow_private', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('webhook_deliveries')
    .ifNotExists()
    .$call((b) => (isPostgres ? b.addColumn('id', 'serial', (c) => c.primaryKey()) : b.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())))
    .addColumn('endpoint_id', 'integer', (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
    .addColumn('message_id', 'text', (c) => c.notNull()) // `webhook-id`: the same on every attempt
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull()) // `post:12`: deliveries of one subject go out in order
    .addColumn('payload', 'text', (c) => c.notNull()) // JSON: { type, timestamp, data }
    .addColumn('status', 'text', (c) => c.notNull()) // queued | sending | delivered | failed
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('last_status', 'integer')
    .addColumn('last_duration_ms', 'integer')
    .addColumn('last_error', 'text')
    .execute();
  // The claim reads due rows by time; the order rule looks for an earlier open delivery of the same subject.
  await sql`CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'queued'`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS webhook_deliveries_subject ON webhook_deliveries (endpoint_id, subject, id)`.execute(db);
  await db.schema
    .createTable('webhook_attempts')
    .ifNotExists()
    .$call((b) => (isPostgres ? b.addColumn('id', 'serial', (c) => c.primaryKey()) : b.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())))
    .addColumn('delivery_id', 'integer', (c) => c.notNull().references('webhook_deliveries.id').onDelete('cascade'))
    .addColumn('attempted_at', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer') // null: no HTTP answer (refused, timed out, a private address)
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('response_excerpt', 'text') // the first 1,000 characters of the answer, shown escaped
    .execute();
  await sql`CREATE INDEX IF NOT EXISTS webhook_attempts_delivery ON webhook_attempts (delivery_id, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webhook_attempts').ifExists().execute();
  await db.schema.dropTable('webhook_deliveries').ifExists().execute();
  await db.schema.dropTable('webhook_endpoints').ifExists().execute();
}
