// Frozen once landed. Bounces and complaints (src/modules/bounces): `bounce_events` holds what was acted
// on, one row per delivery and kind, so the same bounce read twice counts once; `bounce_quarantine` keeps
// the messages that could not be tied to a delivery by a signed tag, for someone to review.
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const addId = (builder: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    isPostgres ? builder.addColumn('id', 'serial', (c) => c.primaryKey()) : builder.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await db.schema
    .createTable('bounce_events')
    .ifNotExists()
    .$call(addId)
    .addColumn('delivery_id', 'integer', (c) => c.notNull()) // no foreign key: the record outlives a deleted issue
    .addColumn('issue_id', 'integer', (c) => c.notNull())
    .addColumn('subscriber_id', 'integer') // null once the subscriber is erased
    .addColumn('kind', 'text', (c) => c.notNull()) // hard | soft | complaint
    .addColumn('status', 'text') // RFC 3463, e.g. 5.1.1
    .addColumn('feedback_type', 'text') // RFC 5965, complaints only
    .addColumn('detail', 'text', (c) => c.notNull()) // the server's words, at most 500 characters
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('bounce_events_delivery_kind', ['delivery_id', 'kind'])
    .execute();
  await db.schema.createIndex('bounce_events_subscriber').ifNotExists().on('bounce_events').columns(['subscriber_id', 'kind', 'created_at']).execute();
  await db.schema.createIndex('bounce_events_issue').ifNotExists().on('bounce_events').columns(['issue_id', 'kind']).execute();

  await db.schema
    .createTable('bounce_quarantine')
    .ifNotExists()
    .$call(addId)
    .addColumn('message_hash', 'text', (c) => c.notNull().unique()) // SHA-256 of the bytes: kept once
    .addColumn('reason', 'text', (c) => c.notNull()) // no_tag | forged_tag | conflicting_tags | unknown_delivery
    .addColumn('class', 'text', (c) => c.notNull()) // how it read: hard | soft | complaint | …
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull()) // the message itself (latin1 of its bytes), at most 256 KB
    .addColumn('received_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('bounce_quarantine').ifExists().execute();
  await db.schema.dropTable('bounce_events').ifExists().execute();
}
