// Frozen once landed. Integrations: each holds a Content API key (only its SHA-256 is stored) and an Admin
// API key (an id, and a secret that must be read back to verify the JWTs it signs: sealed with the secret key).
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('integrations')
    .ifNotExists()
    .$call((b) => (isPostgres ? b.addColumn('id', 'serial', (c) => c.primaryKey()) : b.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('content_key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('admin_key_id', 'text', (c) => c.notNull().unique())
    .addColumn('admin_secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('integrations').ifExists().execute();
}
