import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../../config.ts';

/** Where stored files live on the filesystem: `<DATA_DIR>/media`. */
export function mediaDirectory(dataDir: string): string {
  return path.join(dataDir, 'media');
}

/** `Herzog Meeting!.MP4` → `herzog-meeting`: the readable part of a fingerprinted name. */
export function safeBaseName(originalName: string): string {
  const base = path.basename(originalName.replaceAll('\\', '/'), path.extname(originalName));
  const cleaned = base
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase()
    .slice(0, 60);
  return cleaned || 'file';
}

/** A stored file: its fingerprinted name (`name.<sha256 prefix>.ext`), digest and size. */
export interface StoredFile {
  fileName: string;
  sha256: string;
  byteSize: number;
}

/** The fingerprinted name of some bytes: the same bytes always get the same name, changed bytes a new one. */
export function fingerprint(originalName: string, extension: string, bytes: Uint8Array): StoredFile {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return {
    fileName: `${safeBaseName(originalName)}.${sha256.slice(0, 12)}.${extension}`,
    sha256,
    byteSize: bytes.byteLength,
  };
}

/** The fingerprinted name of a local file, read as a stream. */
export async function fingerprintFile(originalName: string, extension: string, localPath: string): Promise<StoredFile> {
  const hash = createHash('sha256');
  let byteSize = 0;
  for await (const chunk of createReadStream(localPath)) {
    hash.update(chunk as Buffer);
    byteSize += (chunk as Buffer).byteLength;
  }
  const sha256 = hash.digest('hex');
  return { fileName: `${safeBaseName(originalName)}.${sha256.slice(0, 12)}.${extension}`, sha256, byteSize };
}

/**
 * Where media bytes live, behind one interface: the filesystem under DATA_DIR by default; an S3-compatible
 * object store when MEDIA_URL=s3://… is set. Names are fingerprinted, so a stored file never changes and
 * can be cached as immutable.
 */
export interface MediaStorage {
  /** For logs and the README: `filesystem /data/media`, `s3://bucket/prefix`. */
  readonly description: string;
  /** Stores bytes under their fingerprinted name (idempotent: storing the same bytes twice is one file). */
  put(originalName: string, extension: string, bytes: Uint8Array, contentType: string): Promise<StoredFile>;
  /**
   * Stores a local file (a large upload spooled to disk, an ffmpeg output) without reading it into memory.
   * The local file is left in place; the caller removes it.
   */
  putFile(originalName: string, extension: string, localPath: string, contentType: string): Promise<StoredFile>;
  /** Copies a stored file to a local path (ffmpeg and sharp work on files). Rejects when it does not exist. */
  download(fileName: string, localPath: string): Promise<void>;
  /** Removes a stored file; removing one that is not there is not an error. */
  remove(fileName: string): Promise<void>;
  /** Releases connections (the S3 client's sockets); the storage is not used afterwards. */
  close?(): void;
}

/** Fingerprinted names never change content: a year, immutable (also stored on S3 objects for a CDN). */
export const immutableCacheControl = 'public, max-age=31536000, immutable';

/** What the media routes need to answer for a stored object. */
export interface MediaObject {
  size: number;
  etag: string | null;
  contentType: string | null;
  lastModified: Date | null;
}

/** A storage the media routes serve from: every one of ours (the filesystem and S3). */
export interface ServableMediaStorage extends MediaStorage {
  /** Size, ETag and type of a stored file; undefined when there is none. */
  stat(fileName: string): Promise<MediaObject | undefined>;
  /** The bytes `start`–`end` (inclusive), or all of them. */
  read(fileName: string, range?: { start: number; end: number }): Promise<Readable>;
}

/**
 * The storage the configuration asks for: the filesystem under DATA_DIR, or S3 when MEDIA_URL=s3://….
 * The S3 SDK is loaded only then, so a filesystem site does not pay its start-up cost.
 */
export async function createMediaStorage(config: Pick<Config, 'dataDir' | 'media'>): Promise<MediaStorage> {
  const { storage } = config.media;
  if (storage.kind === 'filesystem') return new FileSystemMediaStorage(config.dataDir);
  const { S3MediaStorage } = await import('./media.storage.s3.ts');
  return new S3MediaStorage(storage);
}

/** The types of what the media library stores, by the extension the upload check gave it. */
const contentTypes: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  vtt: 'text/vtt; charset=utf-8',
};

/** Media on the local filesystem, under `<DATA_DIR>/media`, served by the media routes with Range support. */
export class FileSystemMediaStorage implements ServableMediaStorage {
  readonly directory: string;
  readonly description: string;

  constructor(dataDir: string) {
    this.directory = mediaDirectory(dataDir);
    this.description = `filesystem ${this.directory}`;
  }

  /** The write goes to a temporary file first and is renamed into place: a crash never leaves half a file under a real name. */
  async put(originalName: string, extension: string, bytes: Uint8Array): Promise<StoredFile> {
    const stored = fingerprint(originalName, extension, bytes);
    await mkdir(this.directory, { recursive: true });
    const target = path.join(this.directory, stored.fileName);
    const existing = await stat(target).catch(() => undefined);
    if (existing?.size !== bytes.byteLength) {
      const temporary = path.join(this.directory, `.${stored.fileName}.${randomBytes(6).toString('hex')}.tmp`);
      await writeFile(temporary, bytes);
      await rename(temporary, target);
    }
    return stored;
  }

  async putFile(originalName: string, extension: string, localPath: string): Promise<StoredFile> {
    const stored = await fingerprintFile(originalName, extension, localPath);
    await mkdir(this.directory, { recursive: true });
    const target = path.join(this.directory, stored.fileName);
    const existing = await stat(target).catch(() => undefined);
    if (existing?.size !== stored.byteSize) {
      const temporary = path.join(this.directory, `.${stored.fileName}.${randomBytes(6).toString('hex')}.tmp`);
      await copyFile(localPath, temporary);
      await rename(temporary, target);
    }
    return stored;
  }

  async download(fileName: string, localPath: string): Promise<void> {
    await copyFile(this.#pathOf(fileName), localPath);
  }

  async remove(fileName: string): Promise<void> {
    await rm(this.#pathOf(fileName), { force: true });
  }

  async stat(fileName: string): Promise<MediaObject | undefined> {
    const file = await stat(this.#pathOf(fileName)).catch(() => undefined);
    if (!file?.isFile()) return undefined;
    const extension = path.extname(fileName).slice(1).toLowerCase();
    // A strong validator: a stored name never gets other bytes (it carries their fingerprint).
    const etag = `"${file.size.toString(36)}-${Math.floor(file.mtimeMs).toString(36)}"`;
    return {
      size: file.size,
      etag,
      contentType: contentTypes[extension] ?? 'application/octet-stream',
      lastModified: file.mtime,
    };
  }

  read(fileName: string, range?: { start: number; end: number }): Promise<Readable> {
    return Promise.resolve(
      createReadStream(this.#pathOf(fileName), range ? { start: range.start, end: range.end } : {}),
    );
  }

  #pathOf(fileName: string): string {
    if (fileName !== path.basename(fileName) || fileName.startsWith('.'))
      throw new Error(`Not a stored file name: ${fileName}`);
    return path.join(this.directory, fileName);
  }
}

/** Stores bytes on the filesystem under DATA_DIR (kept for callers that have no storage object, e.g. tests). */
export function storeMediaFile(
  dataDir: string,
  originalName: string,
  extension: string,
  bytes: Uint8Array,
): Promise<StoredFile> {
  return new FileSystemMediaStorage(dataDir).put(originalName, extension, bytes);
}
