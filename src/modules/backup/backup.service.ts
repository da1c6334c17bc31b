import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { create, entries, extract, type ReadEntry, WriteEntry } from 'tar';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import { mediaDirectory } from '../media/index.ts';

/**
 * A Gazette backup is one .tar.gz: `gazette-backup.json` (the manifest, first), `gazette.sqlite` (a consistent
 * copy of the database) and `media/` (the stored files). Only these names, as plain files and folders, are
 * ever written into an archive or read back from one.
 */
const manifestName = 'gazette-backup.json';
const databaseName = 'gazette.sqlite';
const mediaFolder = 'media';

const manifestSchema = z.object({
  format: z.literal('gazette-backup'),
  version: z.literal(1),
  createdAt: z.string(),
  database: z.literal('sqlite'),
  /** 'included' (DATA_DIR/media), or 'external' (S3: the bucket is backed up with the store's own tools). */
  media: z.enum(['included', 'external']),
  mediaFiles: z.number().int().min(0),
});
type Manifest = z.infer<typeof manifestSchema>;

/** Why a backup or restore cannot go ahead: a one-line message for the operator, exit code 1. */
export class BackupError extends Error {
  override name = 'BackupError';
}

export interface BackupProgress {
  /** Media bytes written into the archive so far, of `totalBytes`. */
  doneBytes: number;
  totalBytes: number;
  doneFiles: number;
  totalFiles: number;
}

export interface BackupSummary {
  file: string;
  bytes: number;
  mediaFiles: number;
  media: Manifest['media'];
}

/** What to tell a PostgreSQL operator instead: pg_dump is the consistent, online copy there. */
export function postgresBackupAdvice(config: Config, file: string): string {
  const media =
    config.media.storage.kind === 'filesystem'
      ? `\n  tar -czf ${shellQuote(`${file}.media.tar.gz`)} -C ${shellQuote(config.dataDir)} media`
      : '';
  return (
    `gazette backup copies SQLite sites only; on PostgreSQL use pg_dump, which takes a consistent copy while the site serves:\n` +
    `  pg_dump --format=custom --no-owner --file=${shellQuote(file)} "$DATABASE_URL"${media}\n` +
    `and to restore, into an empty database: pg_restore --no-owner --dbname="$DATABASE_URL" ${shellQuote(file)}`
  );
}

export function postgresRestoreAdvice(file: string): string {
  return `gazette restore restores SQLite backups only; on PostgreSQL restore a pg_dump into an empty database:\n  pg_restore --no-owner --dbname="$DATABASE_URL" ${shellQuote(file)}`;
}

/**
 * Writes a backup of a SQLite site to `file` while it serves and sends. The database is copied by
 * `VACUUM INTO`, which reads one snapshot (a WAL read transaction), so writers carry on and the copy is
 * consistent. Media files are taken after the snapshot: they are fingerprinted and never rewritten, so every
 * file a row of the snapshot names is already there. The archive is written beside `file` and renamed into
 * place, so `file` is either absent or complete.
 */
export async function createBackup(
  config: Config,
  file: string,
  onProgress: (progress: BackupProgress) => void = () => {},
): Promise<BackupSummary> {
  if (config.database.kind !== 'sqlite') throw new BackupError(postgresBackupAdvice(config, file));
  const target = path.resolve(file);
  if (await exists(target)) throw new BackupError(`${target} already exists; give a new file name.`);
  if (!(await exists(path.dirname(target))))
    throw new BackupError(`The folder ${path.dirname(target)} does not exist.`);
  if (!(await exists(config.database.file)))
    throw new BackupError(`There is no database at ${config.database.file} to back up.`);
  const staging = await mkdtemp(path.join(path.dirname(target), '.gazette-backup-'));
  const partial = path.join(staging, 'archive.tar.gz');
  try {
    const snapshot = path.join(staging, databaseName);
    copyDatabase(config.database.file, snapshot);
    const mediaIncluded = config.media.storage.kind === 'filesystem';
    const media = mediaIncluded ? await listFiles(mediaDirectory(config.dataDir)) : [];
    const totalBytes = media.reduce((sum, f) => sum + f.size, 0);
    const progress: BackupProgress = { doneBytes: 0, totalBytes, doneFiles: 0, totalFiles: media.length };
    const manifest: Manifest = {
      format: 'gazette-backup',
      version: 1,
      createdAt: new Date().toISOString(),
      database: 'sqlite',
      media: mediaIncluded ? 'included' : 'external',
      mediaFiles: media.length,
    };
    const snapshotSize = (await stat(snapshot)).size;
    const archiveEntries: (WriteEntry | string)[] = [
      new WriteEntry({ path: manifestName, mode: 0o644, mtime: new Date() }, `${JSON.stringify(manifest, null, 2)}\n`),
      new WriteEntry(
        { path: databaseName, mode: 0o600, mtime: new Date(), size: snapshotSize },
        createReadStream(snapshot),
      ),
    ];
    if (media.length > 0) archiveEntries.push(mediaFolder);
    onProgress(progress);
    await create(
      {
        file: partial,
        gzip: true,
        cwd: config.dataDir,
        portable: true,
        strict: true,
        // Only files and folders: a link or socket under media/ would make the archive one restore refuses.
        filter: (_entryPath, info) => ('isFile' in info ? info.isFile() || info.isDirectory() : true),
        onWriteEntry: (entry) => {
          if (entry.type !== 'File' || !entry.path.startsWith(`${mediaFolder}/`)) return;
          progress.doneBytes += entry.size;
          progress.doneFiles++;
          onProgress(progress);
        },
      },
      archiveEntries,
    );
    const bytes = (await stat(partial)).size;
    await rename(partial, target);
    return { file: target, bytes, mediaFiles: media.length, media: manifest.media };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** `VACUUM INTO` on a connection of its own: one consistent copy, compacted, without stopping the writers. */
function copyDatabase(source: string, destination: string): void {
  const database = new DatabaseSync(source);
  try {
    database.exec('PRAGMA busy_timeout = 5000');
    database.prepare('VACUUM INTO ?').run(destination);
  } finally {
    database.close();
  }
}

export interface RestoreSummary {
  createdAt: string;
  mediaFiles: number;
  media: Manifest['media'];
}

/**
 * Restores a backup into an empty DATA_DIR (and the database file DATABASE_URL names). The archive is read
 * twice: first every entry is checked (a manifest first, only our names, plain files and folders, no `..`,
 * no absolute path, no link), then it is extracted into a staging folder inside DATA_DIR and moved into place,
 * so a refused or broken archive leaves DATA_DIR as it was.
 */
export async function restoreBackup(config: Config, file: string): Promise<RestoreSummary> {
  const source = path.resolve(file);
  if (config.database.kind !== 'sqlite') throw new BackupError(postgresRestoreAdvice(source));
  if (!(await exists(source))) throw new BackupError(`${source} does not exist.`);
  const dataDir = config.dataDir;
  const present = (await exists(dataDir)) ? await readdir(dataDir) : [];
  if (present.length > 0) {
    throw new BackupError(
      `DATA_DIR ${dataDir} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}); restore into an empty or new folder.`,
    );
  }
  if (await exists(config.database.file))
    throw new BackupError(
      `The database ${config.database.file} already exists; restore into a new DATABASE_URL or move it away.`,
    );

  const manifest = await checkArchive(source);
  await mkdir(dataDir, { recursive: true });
  const staging = path.join(dataDir, `.restore-${randomBytes(4).toString('hex')}`);
  await mkdir(staging);
  try {
    await extract({
      file: source,
      cwd: staging,
      strict: true,
      preserveOwner: false,
      // Defence in depth: the same rule as the check, so nothing unchecked is ever written.
      filter: (_entryPath, entry) => entryProblem(entry) === null,
    });
    await mkdir(path.dirname(config.database.file), { recursive: true });
    await rename(path.join(staging, databaseName), config.database.file);
    if (await exists(path.join(staging, mediaFolder)))
      await rename(path.join(staging, mediaFolder), mediaDirectory(dataDir));
  } catch (error) {
    await rm(config.database.file, { force: true });
    await rm(mediaDirectory(dataDir), { recursive: true, force: true });
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return { createdAt: manifest.createdAt, mediaFiles: manifest.mediaFiles, media: manifest.media };
}

/** Reads every entry's header (and the manifest's body); throws BackupError at the first thing out of place. */
async function checkArchive(file: string): Promise<Manifest> {
  let manifest: Manifest | undefined;
  let sawDatabase = false;
  let index = 0;
  try {
    for await (const entry of entries(createReadStream(file))) {
      const problem = entryProblem(entry);
      if (problem !== null)
        throw new BackupError(
          `${file} has an entry Gazette will not restore: ${JSON.stringify(entry.path)} (${problem}).`,
        );
      if (index++ === 0) {
        if (entry.path !== manifestName)
          throw new BackupError(`${file} is not a Gazette backup (it does not start with ${manifestName}).`);
        const parsed = manifestSchema.safeParse(safeJson(await entry.text()));
        if (!parsed.success)
          throw new BackupError(
            `${file} is not a Gazette backup this version can restore (its ${manifestName} is not understood).`,
          );
        manifest = parsed.data;
      } else if (entry.path === databaseName) sawDatabase = true;
    }
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(
      `${file} is not a Gazette backup (not a readable .tar.gz archive: ${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  if (!manifest) throw new BackupError(`${file} is not a Gazette backup (no ${manifestName}).`);
  if (!sawDatabase) throw new BackupError(`${file} is not a complete Gazette backup (no ${databaseName}).`);
  return manifest;
}

/** Null for an entry a backup may hold; otherwise why not. */
function entryProblem(entry: Pick<ReadEntry, 'path' | 'type'>): string | null {
  if (entry.type !== 'File' && entry.type !== 'Directory') return `a ${entry.type} entry`;
  const name = entry.path.replace(/\/$/, '');
  if (name.startsWith('/') || name.includes('\\') || name.includes('\0')) return 'not a relative path';
  const parts = name.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) return 'a path that leaves its folder';
  if (entry.type === 'File' && parts.length === 1 && (name === manifestName || name === databaseName)) return null;
  if (parts[0] === mediaFolder && (parts.length > 1 || entry.type === 'Directory')) return null;
  return 'not part of a Gazette backup';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function listFiles(folder: string): Promise<{ path: string; size: number }[]> {
  if (!(await exists(folder))) return [];
  const files: { path: string; size: number }[] = [];
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.push({ path: full, size: (await stat(full)).size });
  }
  return files;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}
