// Frozen once landed. The delivery queue's indexes hold only the rows their queries look for, so that a
// message's two state changes (claimed, then sent) touch as few index entries as possible: at thousands of
// messages per second these writes were most of a send's database work (on PostgreSQL neither update can be
// HOT, as both change an indexed column, so every index got a new entry from each). Replaced:
// - `deliveries_claim (status, next_attempt_at, id)`, which also held every sent row ever, and
//   `deliveries_issue_status (issue_id, status)`, moved by both updates, and
// - `deliveries_issue_sent_at (issue_id, sent_at)`, given an entry by the claim on PostgreSQL;
// by:
// - `deliveries_due`: the queued rows in claim order (leaves it when claimed);
// - `deliveries_open`: queued and sending rows by status, issue and claimant (the sweeps, "is the issue
//   done?", progress); a row leaves it when sent;
// - `deliveries_issue_sent`: the sent rows of an issue by time (the chart and the sent count);
// - `deliveries_issue_closed`: failed and skipped rows (counts), never on the hot path.
// Partial indexes are in both SQLite (3.8) and PostgreSQL. Queries must spell the predicates with literal
// statuses (`status = 'sent'`), not bound parameters, for SQLite's planner to use them.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'queued'`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS deliveries_open ON deliveries (status, issue_id, claimed_by) WHERE status = 'queued' OR status = 'sending'`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS deliveries_issue_sent ON deliveries (issue_id, sent_at) WHERE status = 'sent'`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS deliveries_issue_closed ON deliveries (issue_id, status) WHERE status = 'failed' OR status = 'skipped'`.execute(db);
  await sql`DROP INDEX IF EXISTS deliveries_claim`.execute(db);
  await sql`DROP INDEX IF EXISTS deliveries_issue_status`.execute(db);
  await sql`DROP INDEX IF EXISTS deliveries_issue_sent_at`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS deliveries_claim ON deliveries (status, next_attempt_at, id)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS deliveries_issue_status ON deliveries (issue_id, status)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS deliveries_issue_sent_at ON deliveries (issue_id, sent_at)`.execute(db);
  await sql`DROP INDEX IF EXISTS deliveries_issue_closed`.execute(db);
  await sql`DROP INDEX IF EXISTS deliveries_issue_sent`.execute(db);
  await sql`DROP INDEX IF EXISTS deliveries_open`.execute(db);
  await sql`DROP INDEX IF EXISTS deliveries_due`.execute(db);
}
