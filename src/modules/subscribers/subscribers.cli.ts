import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { type CliCommand, UsageError, wantsHelp } from '../../cli-support.ts';
import { loadConfig } from '../../config.ts';
import type { Db } from '../../db/index.ts';
import { withMigratedDb } from '../../db/migrate.ts';
import { findKnownEmailKeys, findSuppressed, insertConsentEvents, insertSubscribers, listConsentEventsFor, listSubscribersAfter } from './subscribers.repository.ts';
import { importRowSchema, normaliseEmail } from './subscribers.schema.ts';
import type { NewConsentEvent, NewSubscriber } from './subscribers.table.ts';
import { emailHash } from './subscribers.tokens.ts';

const importUsage = `Usage: gazette subscribers import <file.csv> --source "<where the list came from>"

Imports subscribers from a CSV file with a header row. Columns: email (required), name, status
(confirmed: already confirmed elsewhere; anything else is imported as pending and mailed nothing until
the reader signs up), consented_at (a date). The source and today's date go into each consent record.
Bad rows are reported by line number and skipped; known and erased addresses are skipped. Rows are
written in batches of ${500}, each in one transaction.`;

const exportUsage = `Usage: gazette subscribers export [file.csv]

Writes every subscriber as CSV (email, name, status, consent fields) to the file, or to standard output.`;

const usage = `Usage: gazette subscribers <import|export> …\n\n${importUsage}\n\n${exportUsage}`;

/** Rows per transaction: big enough for speed, small enough for SQLite's and PostgreSQL's parameter limits. */
const batchSize = 500;

/** `gazette subscribers import|export`. */
export const subscribersCommand: CliCommand = {
  summary: 'Import subscribers from a CSV file, or export them as CSV.',
  usage: 'gazette subscribers import <file.csv> --source "<where>" | gazette subscribers export [file.csv]',
  run: async (args) => {
    const [action, ...rest] = args;
    if (action === 'import') return runImport(rest);
    if (action === 'export') return runExport(rest);
    if (action === undefined || wantsHelp(args)) {
      console.log(usage);
      return 0;
    }
    throw new UsageError(`Unknown subscribers action '${action}'. Run 'gazette subscribers --help'.`);
  },
};

async function withDb<T>(work: (db: Db) => Promise<T>): Promise<T> {
  return withMigratedDb(loadConfig().database, work);
}

async function runImport(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(importUsage);
    return 0;
  }
  const { values, positionals } = parseArgs({ args, options: { source: { type: 'string' } }, allowPositionals: true, strict: true });
  const [file, extra] = positionals;
  if (!file || extra !== undefined) throw new UsageError(`Give one CSV file. Run 'gazette subscribers import --help'.`);
  const source = values.source?.trim();
  if (!source) throw new UsageError(`--source is required: where the list came from (e.g. --source "Mailchimp export, May 2026").`);
  const size = (await stat(file).catch(() => undefined))?.size;
  if (size === undefined) throw new UsageError(`Cannot read ${file}.`);
  const summary = await withDb((db) => importSubscribers(db, { file, source, size, now: new Date(), report: (line) => console.error(line) }));
  console.log(
    `Imported ${summary.imported} subscribers (${summary.confirmed} confirmed); skipped ${summary.known} already known, ${summary.suppressed} erased or bounced, ${summary.bad} bad rows.`,
  );
  return summary.bad > 0 ? 1 : 0;
}

export interface ImportSummary {
  imported: number;
  confirmed: number;
  known: number;
  suppressed: number;
  bad: number;
}

interface PendingRow {
  subscriber: NewSubscriber;
  consentedAt: string | null;
  line: number;
}

/**
 * Streams the CSV, validates each row, and writes batches of 500 in one transaction each (a batch is
 * written whole or not at all). Progress goes to stderr as a bar; bad rows are reported by line.
 */
export async function importSubscribers(
  db: Db,
  options: { file: string; source: string; size: number; now: Date; report: (line: string) => void },
): Promise<ImportSummary> {
  const summary: ImportSummary = { imported: 0, confirmed: 0, known: 0, suppressed: 0, bad: 0 };
  const at = options.now.toISOString();
  const detailBase = { source: options.source, file: path.basename(options.file), imported_at: at };
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'Importing |{bar}| {percentage}% | {rows} rows',
    noTTYOutput: true,
    notTTYSchedule: 1000,
    hideCursor: false,
  });
  bar.start(Math.max(options.size, 1), 0, { rows: 0 });
  let rows = 0;
  const seen = new Set<string>();
  let batch: PendingRow[] = [];

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    await db.transaction().execute(async (trx) => {
      const keys = current.map((r) => r.subscriber.email_key);
      const known = await findKnownEmailKeys(trx, keys);
      const suppressed = await findSuppressed(trx, keys.map(emailHash));
      const fresh = current.filter((r) => {
        if (known.has(r.subscriber.email_key)) return (summary.known++, false);
        if (suppressed.has(emailHash(r.subscriber.email_key))) return (summary.suppressed++, false);
        return true;
      });
      const ids = await insertSubscribers(trx, fresh.map((r) => r.subscriber));
      const events: NewConsentEvent[] = fresh.map((r) => ({
        subscriber_id: ids.get(r.subscriber.email_key) ?? null,
        email_hash: emailHash(r.subscriber.email_key),
        kind: 'imported',
        detail: JSON.stringify({ ...detailBase, line: r.line, status: r.subscriber.status, consented_at: r.consentedAt }),
        created_at: at,
      }));
      await insertConsentEvents(trx, events);
      summary.imported += fresh.length;
      summary.confirmed += fresh.filter((r) => r.subscriber.status === 'confirmed').length;
    });
  };

  const parser = createReadStream(options.file).pipe(
    parse({ columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), bom: true, skip_empty_lines: true, trim: true, info: true, relax_column_count: true, skip_records_with_error: true }),
  );
  parser.on('skip', (error: Error & { lines?: number }) => {
    summary.bad++;
    options.report(`line ${error.lines ?? '?'}: ${error.message}`);
  });
  try {
    for await (const record of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number; bytes: number } }>) {
      const line = record.info.lines;
      rows++;
      const problem = (message: string) => {
        summary.bad++;
        options.report(`line ${line}: ${message}`);
      };
      if (rows === 1 && !('email' in record.record)) throw new Error('the header row has no "email" column');
      const parsed = importRowSchema.safeParse(record.record);
      if (!parsed.success) {
        problem(parsed.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; '));
        continue;
      }
      const address = normaliseEmail(parsed.data.email);
      if (!address) {
        problem(`not a valid email address`);
        continue;
      }
      if (seen.has(address.emailKey)) {
        problem(`${address.email} appears earlier in the file`);
        continue;
      }
      seen.add(address.emailKey);
      const status = parsed.data.status === 'confirmed' ? 'confirmed' : parsed.data.status === 'unsubscribed' ? 'unsubscribed' : 'pending';
      batch.push({
        line,
        consentedAt: parsed.data.consented_at,
        subscriber: {
          email: address.email,
          email_key: address.emailKey,
          name: parsed.data.name,
          status,
          source: 'import',
          confirm_nonce: null,
          confirm_sent_at: null,
          created_at: at,
          confirmed_at: status === 'confirmed' ? (parsed.data.consented_at ?? at) : null,
          unsubscribed_at: status === 'unsubscribed' ? at : null,
        },
      });
      if (batch.length >= batchSize) {
        await flush();
        bar.update(record.info.bytes, { rows });
      }
    }
    await flush();
    bar.update(Math.max(options.size, 1), { rows });
  } finally {
    bar.stop();
  }
  return summary;
}

/** The CSV columns of an export (also what `import` reads back: email, name, status, consented_at). */
const exportColumns = ['email', 'name', 'status', 'source', 'created_at', 'confirmed_at', 'unsubscribed_at', 'consented_at', 'consent_kind', 'consent_source', 'terms_version', 'privacy_version'];

async function runExport(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(exportUsage);
    return 0;
  }
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  const [file, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`Give at most one output file. Run 'gazette subscribers export --help'.`);
  const count = await withDb(async (db) => {
    const output = file ? createWriteStream(file) : process.stdout;
    const csv = stringify({ header: true, columns: exportColumns });
    csv.pipe(output);
    const written = await exportSubscribers(db, async (row) => {
      if (!csv.write(row)) await once(csv, 'drain');
    });
    csv.end();
    if (file) await once(output, 'finish');
    return written;
  });
  console.error(`Exported ${count} subscribers${file ? ` to ${file}` : ''}.`);
  return 0;
}

/** Walks every subscriber in id order, 1,000 at a time, with the consent record that first admitted them. */
export async function exportSubscribers(db: Db, write: (row: Record<string, string | number | null>) => Promise<void>): Promise<number> {
  let afterId = 0;
  let count = 0;
  for (;;) {
    const page = await listSubscribersAfter(db, afterId, 1000);
    if (page.length === 0) return count;
    const events = await listConsentEventsFor(db, page.map((s) => s.id));
    for (const subscriber of page) {
      const own = events.filter((e) => e.subscriber_id === subscriber.id);
      const admitted = own.filter((e) => e.kind === 'signup' || e.kind === 'imported').at(-1);
      const detail = parseDetail(admitted?.detail ?? null);
      await write({
        email: subscriber.email,
        name: subscriber.name,
        status: subscriber.status,
        source: subscriber.source,
        created_at: subscriber.created_at,
        confirmed_at: subscriber.confirmed_at,
        unsubscribed_at: subscriber.unsubscribed_at,
        consented_at: admitted?.kind === 'imported' ? (typeof detail.consented_at === 'string' ? detail.consented_at : null) : (admitted?.created_at ?? null),
        consent_kind: admitted?.kind ?? null,
        consent_source: admitted?.kind === 'imported' ? (typeof detail.source === 'string' ? detail.source : null) : (admitted?.source_url ?? null),
        terms_version: admitted?.terms_version ?? null,
        privacy_version: admitted?.privacy_version ?? null,
      });
      count++;
    }
    afterId = page.at(-1)?.id ?? afterId;
  }
}

function parseDetail(detail: string | null): Record<string, unknown> {
  if (!detail) return {};
  try {
    const value: unknown = JSON.parse(detail);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
