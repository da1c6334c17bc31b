import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { type Stringifier, stringify } from 'csv-stringify';
import type { Db } from '../../db/index.ts';
import {
  findKnownEmailKeys,
  findSuppressed,
  insertConsentEvents,
  insertSubscribers,
  listConsentEventsFor,
  listSubscribersAfter,
} from './subscribers.repository.ts';
import { importRowSchema, normaliseEmail } from './subscribers.schema.ts';
import type { NewConsentEvent, NewSubscriber } from './subscribers.table.ts';

// CSV import and export of subscribers, shared by `gazette subscribers import|export` and the newsroom's
// upload and download. The callers own the bytes (a file, an upload, a response); this owns the rules.

/** Rows per transaction: big enough for speed, small enough for SQLite's and PostgreSQL's parameter limits. */
export const importBatchSize = 500;

export interface ImportSummary {
  imported: number;
  confirmed: number;
  known: number;
  suppressed: number;
  bad: number;
}

export interface ImportOptions {
  /** The CSV's bytes. */
  input: Readable;
  /** Where and how the list consented: copied into every imported subscriber's consent event. */
  source: string;
  /** The file's name as given (its base name only is kept). */
  fileName: string;
  now: Date;
  /** The suppression-list hash of an address key (openEmailHasher). */
  emailHash: (emailKey: string) => string;
  /** A bad row, by its line number in the file (1 is the header row). */
  onBadRow: (line: number | null, message: string) => void;
  /** After each written batch and at the end: bytes of the file read so far, data rows seen, counts so far. */
  onProgress?: (bytesRead: number, rows: number, summary: Readonly<ImportSummary>) => void | Promise<void>;
}

interface PendingRow {
  subscriber: NewSubscriber;
  consentedAt: string | null;
  line: number;
}

/** The file's header has no `email` column: nothing can be imported from it. */
export class MissingEmailColumnError extends Error {
  constructor() {
    super('the header row has no "email" column');
  }
}

/**
 * Streams the CSV, validates each row, and writes batches of 500 in one transaction each (a batch is
 * written whole or not at all). Known and suppressed addresses are skipped; bad rows are reported by line.
 */
export async function importSubscribers(db: Db, options: ImportOptions): Promise<ImportSummary> {
  const summary: ImportSummary = { imported: 0, confirmed: 0, known: 0, suppressed: 0, bad: 0 };
  const at = options.now.toISOString();
  const fileName = options.fileName.split(/[\\/]/).at(-1) ?? '';
  const detailBase = { source: options.source, file: fileName, imported_at: at };
  let rows = 0;
  let bytes = 0;
  const seen = new Set<string>();
  let batch: PendingRow[] = [];

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    await db.transaction().execute(async (trx) => {
      const keys = current.map((r) => r.subscriber.email_key);
      const known = await findKnownEmailKeys(trx, keys);
      const suppressed = await findSuppressed(trx, keys.map(options.emailHash));
      const fresh = current.filter((r) => {
        if (known.has(r.subscriber.email_key)) return (summary.known++, false);
        if (suppressed.has(options.emailHash(r.subscriber.email_key))) return (summary.suppressed++, false);
        return true;
      });
      const ids = await insertSubscribers(
        trx,
        fresh.map((r) => r.subscriber),
      );
      const events: NewConsentEvent[] = fresh.map((r) => ({
        subscriber_id: ids.get(r.subscriber.email_key) ?? null,
        email_hash: options.emailHash(r.subscriber.email_key),
        kind: 'imported',
        detail: JSON.stringify({
          ...detailBase,
          line: r.line,
          status: r.subscriber.status,
          consented_at: r.consentedAt,
        }),
        created_at: at,
      }));
      await insertConsentEvents(trx, events);
      summary.imported += fresh.length;
      summary.confirmed += fresh.filter((r) => r.subscriber.status === 'confirmed').length;
    });
  };

  const parser = options.input.pipe(
    parse({
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      bom: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      relax_column_count: true,
      skip_records_with_error: true,
    }),
  );
  options.input.on('error', (error) => parser.destroy(error));
  parser.on('skip', (error: Error & { lines?: number }) => {
    summary.bad++;
    options.onBadRow(error.lines ?? null, error.message);
  });
  for await (const record of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number; bytes: number };
  }>) {
    for (const [column, value] of Object.entries(record.record)) record.record[column] = unneutraliseCell(value);
    const line = record.info.lines;
    bytes = record.info.bytes;
    rows++;
    const problem = (message: string) => {
      summary.bad++;
      options.onBadRow(line, message);
    };
    if (rows === 1 && !('email' in record.record)) {
      parser.destroy();
      throw new MissingEmailColumnError();
    }
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
    const status =
      parsed.data.status === 'confirmed'
        ? 'confirmed'
        : parsed.data.status === 'unsubscribed'
          ? 'unsubscribed'
          : 'pending';
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
    if (batch.length >= importBatchSize) {
      await flush();
      await options.onProgress?.(bytes, rows, summary);
    }
  }
  await flush();
  await options.onProgress?.(bytes, rows, summary);
  return summary;
}

/** The CSV columns of an export (also what `import` reads back: email, name, status, consented_at). */
export const exportColumns = [
  'email',
  'name',
  'status',
  'source',
  'created_at',
  'confirmed_at',
  'unsubscribed_at',
  'consented_at',
  'consent_kind',
  'consent_source',
  'terms_version',
  'privacy_version',
];

export type ExportRow = Record<string, string | number | null>;

/**
 * What a spreadsheet reads as the start of a formula (OWASP "CSV injection"): `=`, `+`, `-`, `@`, tab, CR,
 * also behind quotes we added, so that a value which itself starts with `'` survives the round trip.
 */
const formulaStart = /^'*[=+\-@\t\r]/;

/** A cell as written: a formula-looking value gets a leading `'` (shown as text) and is always quoted. */
function neutraliseCell(value: string): string | { value: string; quoted: true } {
  return formulaStart.test(value) ? { value: `'${value}`, quoted: true } : value;
}

/** The inverse of `neutraliseCell`, so an export (ours, or one neutralised the same way) imports back unchanged. */
export function unneutraliseCell(value: string): string {
  return value.startsWith("'") && formulaStart.test(value) ? value.slice(1) : value;
}

/** The CSV writer of every export (CLI and newsroom): our columns, a header, formula-looking cells neutralised. */
export function exportCsvStringifier(): Stringifier {
  return stringify({ header: true, columns: exportColumns, cast: { string: neutraliseCell } });
}

/** Walks every subscriber in id order, 1,000 at a time, with the consent record that first admitted them. */
export async function exportSubscribers(db: Db, write: (row: ExportRow) => Promise<void>): Promise<number> {
  let afterId = 0;
  let count = 0;
  for (;;) {
    const page = await listSubscribersAfter(db, afterId, 1000);
    if (page.length === 0) return count;
    const events = Map.groupBy(
      await listConsentEventsFor(
        db,
        page.map((s) => s.id),
      ),
      (e) => e.subscriber_id,
    );
    for (const subscriber of page) {
      const own = events.get(subscriber.id) ?? [];
      const admitted = own.filter((e) => e.kind === 'signup' || e.kind === 'imported').at(-1);
      const detail = parseConsentDetail(admitted?.detail ?? null);
      await write({
        email: subscriber.email,
        name: subscriber.name,
        status: subscriber.status,
        source: subscriber.source,
        created_at: subscriber.created_at,
        confirmed_at: subscriber.confirmed_at,
        unsubscribed_at: subscriber.unsubscribed_at,
        consented_at:
          admitted?.kind === 'imported'
            ? typeof detail.consented_at === 'string'
              ? detail.consented_at
              : null
            : (admitted?.created_at ?? null),
        consent_kind: admitted?.kind ?? null,
        consent_source:
          admitted?.kind === 'imported'
            ? typeof detail.source === 'string'
              ? detail.source
              : null
            : (admitted?.source_url ?? null),
        terms_version: admitted?.terms_version ?? null,
        privacy_version: admitted?.privacy_version ?? null,
      });
      count++;
    }
    afterId = page.at(-1)?.id ?? afterId;
  }
}

/** A consent event's `detail` JSON as an object ({} when absent or not an object). */
export function parseConsentDetail(detail: string | null): Record<string, unknown> {
  if (!detail) return {};
  try {
    const value: unknown = JSON.parse(detail);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
