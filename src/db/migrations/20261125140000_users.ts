// Frozen once landed. Newsroom accounts: users with a role, server-side sessions (only a hash of the cookie's
// token is stored), one-time sign-in links (hash only), and failed sign-in attempts for throttling, kept in
// the database so that several processes count the same attempts.
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const addId = (builder: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    isPostgres ? builder.addColumn('id', 'serial', (c) => c.primaryKey()) : builder.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await db.schema
    .createTable('users')
    .ifNotExists()
    .$call(addId)
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_key', 'text', (c) => c.notNull().unique()) // lower-cased, for sign-in and uniqueness
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('role', 'text', (c) => c.notNull()) // contributor | author | editor | admin
    .addColumn('password_hash', 'text') // null until a password is set (sign-in links only)
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('disabled_at', 'text')
    .execute();

  await db.schema
    .createTable('sessions')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey()) // SHA-256 hex of the cookie's random token
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .execute();
  await db.schema.createIndex('sessions_user').ifNotExists().on('sessions').column('user_id').execute();

  await db.schema
    .createTable('sign_in_links')
    .ifNotExists()
    .addColumn('token_hash', 'text', (c) => c.primaryKey()) // SHA-256 hex of the link's random token
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();

  await db.schema
    .createTable('sign_in_attempts')
    .ifNotExists()
    .$call(addId)
    .addColumn('key', 'text', (c) => c.notNull()) // account:<email key> | ip:<address>
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sign_in_attempts_key_at').ifNotExists().on('sign_in_attempts').columns(['key', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['sign_in_attempts', 'sign_in_links', 'sessions', 'users']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
