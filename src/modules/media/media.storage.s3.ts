import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { S3StorageConfig } from '../../config.ts';
import {
  fingerprint,
  fingerprintFile,
  immutableCacheControl,
  type MediaObject,
  type ServableMediaStorage,
  type StoredFile,
} from './media.storage.ts';

/**
 * Media in an S3-compatible object store (AWS S3, MinIO, Cloudflare R2, Ceph RGW…), under
 * `s3://bucket/prefix/<fileName>`. Objects carry their Content-Type and a year of immutable caching, so a
 * bucket exposed through a CDN (MEDIA_PUBLIC_URL) serves them as the media routes would.
 */
export class S3MediaStorage implements ServableMediaStorage {
  readonly description: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(config: S3StorageConfig) {
    this.#bucket = config.bucket;
    this.#prefix = config.prefix === '' ? '' : `${config.prefix}/`;
    // The description goes into logs: bucket, prefix and endpoint only, never the credentials.
    this.description = `s3://${config.bucket}${config.prefix === '' ? '' : `/${config.prefix}`}${config.endpoint ? ` at ${config.endpoint}` : ''}`;
    this.#client = new S3Client({
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      // A copy: the SDK annotates the credentials object, and the configuration's is frozen.
      ...(config.credentials ? { credentials: { ...config.credentials } } : {}),
      // Checksums only where S3 requires them: the SDK's default (CRC32 trailers in aws-chunked bodies) is
      // not understood by several S3-compatible stores. Our names already carry a SHA-256 of the bytes.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Idempotent: an object already there with the same size (same name, so same SHA-256 prefix) is not sent again. */
  async put(originalName: string, extension: string, bytes: Uint8Array, contentType: string): Promise<StoredFile> {
    const stored = fingerprint(originalName, extension, bytes);
    if ((await this.stat(stored.fileName))?.size !== stored.byteSize) {
      await this.#client
        .send(
          new PutObjectCommand({
            ...this.#objectHeaders(stored.fileName, contentType),
            Body: bytes,
            ContentLength: bytes.byteLength,
          }),
        )
        .catch((error: unknown) => this.#fail('store', stored.fileName, error));
    }
    return stored;
  }

  /** Streams the file in one PutObject (S3 takes up to 5 GiB that way), never holding it in memory. */
  async putFile(originalName: string, extension: string, localPath: string, contentType: string): Promise<StoredFile> {
    const stored = await fingerprintFile(originalName, extension, localPath);
    if ((await this.stat(stored.fileName))?.size !== stored.byteSize) {
      await this.#client
        .send(
          new PutObjectCommand({
            ...this.#objectHeaders(stored.fileName, contentType),
            Body: createReadStream(localPath),
            ContentLength: stored.byteSize,
          }),
        )
        .catch((error: unknown) => this.#fail('store', stored.fileName, error));
    }
    return stored;
  }

  async download(fileName: string, localPath: string): Promise<void> {
    try {
      await pipeline(await this.read(fileName), createWriteStream(localPath));
    } catch (error) {
      await rm(localPath, { force: true });
      throw error;
    }
  }

  /** S3 answers a delete of a missing key with success, as the interface wants. */
  async remove(fileName: string): Promise<void> {
    await this.#client
      .send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(fileName) }))
      .catch((error: unknown) => this.#fail('remove', fileName, error));
  }

  async stat(fileName: string): Promise<MediaObject | undefined> {
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(fileName) }));
      return {
        size: head.ContentLength ?? 0,
        etag: head.ETag ?? null,
        contentType: head.ContentType ?? null,
        lastModified: head.LastModified ?? null,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      return this.#fail('look up', fileName, error);
    }
  }

  /** The bytes `start`–`end` (inclusive) or the whole object; rejects when it does not exist. */
  async read(fileName: string, range?: { start: number; end: number }): Promise<Readable> {
    const object = await this.#client
      .send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(fileName),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      )
      .catch((error: unknown) => this.#fail('read', fileName, error));
    if (!(object.Body instanceof Readable)) throw new Error(`S3 returned no readable body for ${fileName}`);
    return object.Body;
  }

  close(): void {
    this.#client.destroy();
  }

  /**
   * One line that names the store and what failed (`connect ECONNREFUSED…` alone would read as a database
   * problem at start-up); the SDK's error stays as the cause. Credentials are never part of it.
   */
  #fail(action: string, fileName: string, error: unknown): never {
    const status =
      error instanceof S3ServiceException ? ` (HTTP ${error.$metadata.httpStatusCode ?? '?'} ${error.name})` : '';
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`media storage ${this.description}: could not ${action} ${fileName}${status}: ${reason}`, {
      cause: error,
    });
  }

  #objectHeaders(fileName: string, contentType: string) {
    return {
      Bucket: this.#bucket,
      Key: this.#key(fileName),
      ContentType: contentType,
      CacheControl: immutableCacheControl,
    };
  }

  #key(fileName: string): string {
    if (!isStoredFileName(fileName)) throw new Error(`Not a stored file name: ${fileName}`);
    return `${this.#prefix}${fileName}`;
  }
}

function isStoredFileName(fileName: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(fileName) && !fileName.includes('..');
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.$metadata.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchKey')
  );
}
