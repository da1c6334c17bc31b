import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { type CliCommand, UsageError, wantsHelp } from '../../cli-support.ts';
import { loadConfig } from '../../config.ts';
import type { Db } from '../../db/index.ts';
import { withMigratedDb } from '../../db/migrate.ts';
import { getOrCreateSecretKey } from '../settings/index.ts';
import { openEmailHasher } from './subscribers.service.ts';
import {
  exportCsvStringifier,
  exportSubscribers,
  importBatchSize,
  importSubscribers,
  type ImportSummary,
} from './subscribers.csv.ts';

const importUsage = `Usage: gazette subscribers import <file.csv> --source "<where the list came from>"

Imports subscribers from a CSV file with a header row. Columns: email (required), name, status
(confirmed: already confirmed elsewhere; anything else is imported as pending and mailed nothing until
the reader signs up), consented_at (a date). The source and today's date go into each consent record.
Bad rows are reported by line number and skipped; known and erased addresses are skipped. Rows are
written in batches of ${importBatchSize}, each in one transaction.`;

const exportUsage = `Usage: gazette subscribers export [file.csv]

Writes every subscriber as CSV (email, name, status, consent fields) to the file, or to standard output.`;

const usage = `Usage: gazette subscribers <import|export> …\n\n${importUsage}\n\n${exportUsage}`;

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
  const { values, positionals } = parseArgs({
    args,
    options: { source: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [file, extra] = positionals;
  if (!file || extra !== undefined) throw new UsageError(`Give one CSV file. Run 'gazette subscribers import --help'.`);
  const source = values.source?.trim();
  if (!source)
    throw new UsageError(
      `--source is required: where the list came from (e.g. --source "Mailchimp export, May 2026").`,
    );
  const size = (await stat(file).catch(() => undefined))?.size;
  if (size === undefined) throw new UsageError(`Cannot read ${file}.`);
  const config = loadConfig();
  const summary = await withMigratedDb(config.database, async (db) => {
    const emailHash = await openEmailHasher(db, await getOrCreateSecretKey(db, config.secretKey));
    return importFile(db, { file, source, size, now: new Date(), emailHash, report: (line) => console.error(line) });
  });
  console.log(
    `Imported ${summary.imported} subscribers (${summary.confirmed} confirmed); skipped ${summary.known} already known, ${summary.suppressed} erased or bounced, ${summary.bad} bad rows.`,
  );
  return summary.bad > 0 ? 1 : 0;
}

/**
 * The CLI's import: streams the file through the shared importer, with a progress bar on stderr and bad
 * rows reported there by line number.
 */
async function importFile(
  db: Db,
  options: {
    file: string;
    source: string;
    size: number;
    now: Date;
    emailHash: (emailKey: string) => string;
    report: (line: string) => void;
  },
): Promise<ImportSummary> {
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'Importing |{bar}| {percentage}% | {rows} rows',
    noTTYOutput: true,
    notTTYSchedule: 1000,
    hideCursor: false,
  });
  bar.start(Math.max(options.size, 1), 0, { rows: 0 });
  try {
    const summary = await importSubscribers(db, {
      input: createReadStream(options.file),
      source: options.source,
      fileName: path.basename(options.file),
      now: options.now,
      emailHash: options.emailHash,
      onBadRow: (line, message) => options.report(`line ${line ?? '?'}: ${message}`),
      onProgress: (bytes, rows) => bar.update(Math.min(bytes, Math.max(options.size, 1)), { rows }),
    });
    bar.update(Math.max(options.size, 1));
    return summary;
  } finally {
    bar.stop();
  }
}

async function runExport(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(exportUsage);
    return 0;
  }
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  const [file, extra] = positionals;
  if (extra !== undefined)
    throw new UsageError(`Give at most one output file. Run 'gazette subscribers export --help'.`);
  const count = await withDb(async (db) => {
    const output = file ? createWriteStream(file) : process.stdout;
    const csv = exportCsvStringifier();
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
