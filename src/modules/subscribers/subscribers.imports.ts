import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { importSubscribers, MissingEmailColumnError, type ImportSummary } from './subscribers.csv.ts';

// Imports started from the newsroom's upload form. The upload is spooled to a file first; the import then
// runs in this process in the background (batches of 500, one transaction each) while the browser polls its
// progress, so a 100,000-row list never holds a request open. Progress is kept in memory: an import
// belongs to the process that received its upload, and is forgotten when that process restarts (the rows
// it wrote stay, each batch whole).

/** Bad rows kept for the result page; the count goes on past it. */
const maxBadRowsShown = 1000;
/** Finished imports remembered for their result page. */
const maxRemembered = 50;

export interface BadRow {
  line: number | null;
  message: string;
}

export interface ImportProgress {
  id: number;
  status: 'running' | 'done' | 'failed';
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
  if (head.length === 0 || head.includes(0) || (await (await import('file-type')).fileTypeFromBuffer(head)) !== undefined) throw new AppError('subscriber.import_not_csv');
  // A multi-byte character may be cut at the end of the sample: drop the last three bytes before decoding.
  const sample = head.length === 64 * 1024 ? head.subarray(0, head.length - 3) : head;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(sample);
  } catch {
    throw new AppError('subscriber.import_not_csv');
  }
  const header = (text.replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '').toLowerCase();
  if (!header.split(/[,;\t]/).some((cell) => cell.trim().replace(/^"|"$/g, '').trim() === 'email')) throw new AppError('subscriber.import_not_csv');
}

/** The imports of this process: start one from a spooled file, read its progress, wait for all at shutdown. */
export class SubscriberImports {
  readonly #db: Db;
  readonly #now: () => Date;
  readonly #emailHash: (emailKey: string) => string;
  readonly #warn: (message: string, error: unknown) => void;
  readonly #imports = new Map<number, ImportProgress>();
  readonly #running = new Set<Promise<void>>();
  #nextId = 1;

  constructor(deps: { db: Db; now: () => Date; emailHash: (emailKey: string) => string; warn?: (message: string, error: unknown) => void }) {
    this.#db = deps.db;
    this.#now = deps.now;
    this.#emailHash = deps.emailHash;
    this.#warn = deps.warn ?? (() => {});
  }

  /** Starts importing the file (which this takes over and deletes when done); resolves at once with its id. */
  start(input: { path: string; fileName: string; size: number; source: string; startedBy: string }): number {
    const id = this.#nextId++;
    const progress: ImportProgress = {
      id,
      status: 'running',
      fileName: input.fileName,
      source: input.source,
      startedBy: input.startedBy,
      startedAt: this.#now().toISOString(),
      finishedAt: null,
      size: input.size,
      bytesRead: 0,
      rows: 0,
      summary: null,
      badRows: [],
      error: null,
    };
    this.#imports.set(id, progress);
    for (const old of [...this.#imports.keys()].slice(0, Math.max(0, this.#imports.size - maxRemembered))) {
      if (this.#imports.get(old)?.status !== 'running') this.#imports.delete(old);
    }
    const run = this.#run(progress, input.path).finally(() => this.#running.delete(run));
    this.#running.add(run);
    return id;
  }

  async #run(progress: ImportProgress, path: string): Promise<void> {
    try {
      progress.summary = await importSubscribers(this.#db, {
        input: createReadStream(path),
        source: progress.source,
        fileName: progress.fileName,
        now: new Date(progress.startedAt),
        emailHash: this.#emailHash,
        onBadRow: (line, message) => {
          if (progress.badRows.length < maxBadRowsShown) progress.badRows.push({ line, message });
        },
        onProgress: (bytes, rows) => {
          progress.bytesRead = Math.min(bytes, progress.size);
          progress.rows = rows;
        },
      });
      progress.bytesRead = progress.size;
      progress.status = 'done';
    } catch (error) {
      if (!(error instanceof MissingEmailColumnError)) this.#warn(`subscriber import ${progress.id} failed`, error);
      progress.status = 'failed';
      progress.error = error instanceof MissingEmailColumnError ? 'The header row has no "email" column.' : 'The import stopped on an unexpected error; the batches written before it are kept.';
    } finally {
      progress.finishedAt = this.#now().toISOString();
      await rm(path, { force: true });
    }
  }

  get(id: number): ImportProgress {
    const progress = this.#imports.get(id);
    if (!progress) throw new AppError('subscriber.import_not_found');
    return progress;
  }

  /** Waits for running imports to finish (at shutdown, so no batch is cut off mid-transaction). */
  async close(): Promise<void> {
    await Promise.all([...this.#running]);
  }
}
