// Frozen once landed. One table of rate-limit counters shared by every process (sign-ups per IP and per
// address, sign-in attempts per account and per IP): a row per hashed key, counting hits in a fixed window
// that starts at the key's first hit and ends at `expires_at`. Hits are one atomic upsert; expired rows are
// deleted a few at a time through the `expires_at` index, so no hit ever scans the table. It replaces
// `sign_in_attempts` (a row per failure, counted after the password was checked).
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rate_limits')
    .ifNotExists()
    .addColumn('key', 'text', (c) => c.primaryKey()) // <scope>:<base64url SHA-256 prefix of the value>
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull()) // ISO time the window ends
    .addColumn('granted', 'integer', (c) => c.notNull().defaultTo(0)) // how many hits the last upsert counted
    .execute();
  await db.schema.createIndex('rate_limits_expires_at').ifNotExists().on('rate_limits').column('expires_at').execute();
  await db.schema.dropTable('sign_in_attempts').ifExists().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('sign_in_attempts')
    .ifNotExists()
    .$call((builder) => (isPostgres ? builder.addColumn('id', 'serial', (c) => c.primaryKey()) : builder.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sign_in_attempts_key_at').ifNotExists().on('sign_in_attempts').columns(['key', 'at']).execute();
  await db.schema.dropTable('rate_limits').ifExists().execute();
}
