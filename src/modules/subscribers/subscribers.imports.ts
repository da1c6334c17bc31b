import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { isDeadLocalClaimant, newClaimantId } from '../../db/claimants.ts';
import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { importSubscribers, MissingEmailColumnError, type ImportSummary } from './subscribers.csv.ts';
import { findImport, type ImportRow, insertImport, updateImport } from './subscribers.imports.repository.ts';

// Imports started from the newsroom's upload form. The upload is spooled to a file first; the import then
// runs in this process in the background (batches of 500, one transaction each) while the browser polls its
// progress, so a 100,000-row list never holds a request open. Progress is written to `subscriber_imports`
// after each batch: the newsroom shows an import after a restart, and one whose process died as
// interrupted (the batches it wrote stay, each whole).

/** A running import whose progress has not been written for this long belongs to a process that died. */
const interruptedAfterMs = 5 * 60_000;

/** Bad rows kept for the result page; the count goes on past it. */
const maxBadRowsShown = 1000;

export interface BadRow {
  line: number | null;
  message: string;
}

export interface ImportProgress {
  id: number;
  /** `interrupted`: the process running it stopped (a crash, a kill) before it finished. */
  status: 'running' | 'done' | 'failed' | 'interrupted';
  fileName: string;
  source: string;
  startedBy: string;
  startedAt: string;
  finishedAt: string | null;
  /** The upload's size and how much of it has been read and written. */
  size: number;
  bytesRead: number;
  rows: number;
  summary: ImportSummary | null;
  badRows: BadRow[];
  error: string | null;
}

/**
 * Is the spooled upload a CSV whose header names an `email` column? Checked by content, not by name or
 * declared type: no binary signature (file-type), no NUL byte, UTF-8 text, and "email" in the first line.
 */
export async function checkCsvUpload(path: string): Promise<void> {
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (
    head.length === 0 ||
    head.includes(0) ||
    (await (await import('file-type')).fileTypeFromBuffer(head)) !== undefined
  )
    throw new AppError('subscriber.import_not_csv');
  // A multi-byte character may be cut at the end of the sample: drop the last three bytes before decoding.
  const sample = head.length === 64 * 1024 ? head.subarray(0, head.length - 3) : head;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(sample);
  } catch {
    throw new AppError('subscriber.import_not_csv');
  }
  const header = (text.replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '').toLowerCase();
  if (!header.split(/[,;\t]/).some((cell) => cell.trim().replace(/^"|"$/g, '').trim() === 'email'))
    throw new AppError('subscriber.import_not_csv');
}

/** The imports of this process: start one from a spooled file, read any import's progress, wait for all at shutdown. */
export class SubscriberImports {
  readonly #db: Db;
  readonly #now: () => Date;
  readonly #emailHash: (emailKey: string) => string;
  readonly #warn: (message: string, error: unknown) => void;
  readonly #running = new Set<Promise<void>>();
  readonly #claimant = newClaimantId();

  constructor(deps: {
    db: Db;
    now: () => Date;
    emailHash: (emailKey: string) => string;
    warn?: (message: string, error: unknown) => void;
  }) {
    this.#db = deps.db;
    this.#now = deps.now;
    this.#emailHash = deps.emailHash;
    this.#warn = deps.warn ?? (() => {});
  }

  /** Starts importing the file (which this takes over and deletes when done); resolves with its id once recorded. */
  async start(input: {
    path: string;
    fileName: string;
    size: number;
    source: string;
    startedBy: string;
  }): Promise<number> {
    const startedAt = this.#now().toISOString();
    let id: number;
    try {
      id = await insertImport(this.#db, {
        status: 'running',
        file_name: input.fileName,
        source: input.source,
        started_by: input.startedBy,
        started_at: startedAt,
        size: input.size,
        claimed_by: this.#claimant,
        heartbeat_at: startedAt,
      });
    } catch (error) {
      await rm(input.path, { force: true });
      throw error;
    }
    const run = this.#run(id, input, startedAt).finally(() => this.#running.delete(run));
    this.#running.add(run);
    return id;
  }

  async #run(
    id: number,
    input: { path: string; fileName: string; size: number; source: string },
    startedAt: string,
  ): Promise<void> {
    const badRows: BadRow[] = [];
    try {
      const summary = await importSubscribers(this.#db, {
        input: createReadStream(input.path),
        source: input.source,
        fileName: input.fileName,
        now: new Date(startedAt),
        emailHash: this.#emailHash,
        onBadRow: (line, message) => {
          if (badRows.length < maxBadRowsShown) badRows.push({ line, message });
        },
        onProgress: (bytes, rows, sofar) =>
          updateImport(this.#db, id, {
            bytes_read: Math.min(bytes, input.size),
            rows,
            summary: JSON.stringify(sofar),
            bad_rows: JSON.stringify(badRows),
            heartbeat_at: this.#now().toISOString(),
          }),
      });
      await updateImport(this.#db, id, {
        status: 'done',
        bytes_read: input.size,
        summary: JSON.stringify(summary),
        bad_rows: JSON.stringify(badRows),
        finished_at: this.#now().toISOString(),
      });
    } catch (error) {
      if (!(error instanceof MissingEmailColumnError)) this.#warn(`subscriber import ${id} failed`, error);
      const message =
        error instanceof MissingEmailColumnError
          ? 'The header row has no "email" column.'
          : 'The import stopped on an unexpected error; the batches written before it are kept.';
      await updateImport(this.#db, id, {
        status: 'failed',
        error: message,
        bad_rows: JSON.stringify(badRows),
        finished_at: this.#now().toISOString(),
      }).catch((e: unknown) => this.#warn(`subscriber import ${id}: its failure could not be recorded`, e));
    } finally {
      await rm(input.path, { force: true });
    }
  }

  /** An import's progress, as recorded; a running one whose process is gone is `interrupted`. */
  async get(id: number): Promise<ImportProgress> {
    const row = Number.isSafeInteger(id) ? await findImport(this.#db, id) : undefined;
    if (!row) throw new AppError('subscriber.import_not_found');
    return toProgress(row, this.#now());
  }

  /** Waits for running imports to finish (at shutdown, so no batch is cut off mid-transaction). */
  async close(): Promise<void> {
    await Promise.all([...this.#running]);
  }
}

function toProgress(row: ImportRow, now: Date): ImportProgress {
  const heartbeat = Date.parse(row.heartbeat_at ?? row.started_at);
  const gone =
    row.status === 'running' &&
    ((row.claimed_by !== null && isDeadLocalClaimant(row.claimed_by)) ||
      now.getTime() - heartbeat > interruptedAfterMs);
  const summary = row.summary ? (JSON.parse(row.summary) as ImportSummary) : null;
  return {
    id: row.id,
    status: gone ? 'interrupted' : row.status,
    fileName: row.file_name,
    source: row.source,
    startedBy: row.started_by,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    size: Number(row.size),
    bytesRead: Number(row.bytes_read),
    rows: row.rows,
    // While running, the counts so far are progress only; an interrupted import shows what it wrote.
    summary: row.status === 'running' && !gone ? null : summary,
    badRows: JSON.parse(row.bad_rows) as BadRow[],
    error: gone
      ? 'The server stopped before this import finished. The batches written before that are kept; import the file again to add the rest (rows already on the list are skipped).'
      : row.error,
  };
}
