import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../../config.ts';
import { s3rverCredentials, startLocalS3, type LocalS3 } from '../../../test/helpers/s3.ts';
import { createMediaStorage, FileSystemMediaStorage, type MediaStorage } from './media.storage.ts';

/** The same behaviour from both storages; S3 runs against s3rver, a real S3-compatible server on the loopback. */
for (const backend of ['filesystem', 's3'] as const) {
  describe(`media storage: ${backend}`, () => {
    let work = '';
    let s3: LocalS3 | undefined;
    let storage: MediaStorage;
    /** Bytes as stored, read back past the storage (the file on disk, or the object through S3 itself). */
    let readStored: (fileName: string) => Promise<Buffer | undefined>;

    before(async () => {
      work = await mkdtemp(path.join(tmpdir(), 'gazette-storage-'));
      if (backend === 's3') s3 = await startLocalS3();
      storage = await createMediaStorage(loadConfig({ DATA_DIR: path.join(work, 'data'), ...s3?.env('site/media') }));
      if (backend === 'filesystem') {
        assert.ok(storage instanceof FileSystemMediaStorage);
        const dir = storage.directory;
        readStored = (fileName) => readFile(path.join(dir, fileName)).catch(() => undefined);
      } else {
        assert.equal(storage.description, `s3://gazette-media/site/media at ${s3?.endpoint}`);
        const client = rawClient(s3);
        readStored = async (fileName) => {
          try {
            const object = await client.send(
              new GetObjectCommand({ Bucket: 'gazette-media', Key: `site/media/${fileName}` }),
            );
            return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
          } catch {
            return undefined;
          }
        };
      }
    });
    after(async () => {
      storage.close?.();
      await s3?.close();
      await rm(work, { recursive: true, force: true });
    });

    it('stores bytes under a fingerprinted name, once however often they are stored', async () => {
      const bytes = Buffer.from('WEBVTT\n\n00:00.000 --> 00:01.000\nShalom\n');
      const first = await storage.put('Herzog Meeting!.vtt', 'vtt', bytes, 'text/vtt');
      assert.match(first.fileName, /^herzog-meeting\.[0-9a-f]{12}\.vtt$/);
      assert.equal(first.byteSize, bytes.byteLength);
      const writesBefore = s3?.writes.length;
      const second = await storage.put('Herzog Meeting!.vtt', 'vtt', bytes, 'text/vtt');
      assert.deepEqual(second, first);
      if (s3) assert.equal(s3.writes.length, writesBefore, 'the second put sent nothing to S3');
      assert.deepEqual(await readStored(first.fileName), bytes);
      // Changed bytes get a new name; the old file stays for pages that still link it.
      const changed = await storage.put(
        'Herzog Meeting!.vtt',
        'vtt',
        Buffer.concat([bytes, Buffer.from('x')]),
        'text/vtt',
      );
      assert.notEqual(changed.fileName, first.fileName);
      assert.deepEqual(await readStored(first.fileName), bytes);
    });

    it('streams a large local file in, leaves the local file in place, and skips it when already stored', async () => {
      const local = path.join(work, 'upload.bin');
      const bytes = randomBytes(6 * 1024 * 1024 + 123);
      await writeFile(local, bytes);
      const stored = await storage.putFile('clip.mp4', 'mp4', local, 'video/mp4');
      assert.equal(stored.byteSize, bytes.byteLength);
      assert.deepEqual(await readStored(stored.fileName), bytes);
      assert.equal((await stat(local)).size, bytes.byteLength);
      const writesBefore = s3?.writes.length;
      assert.deepEqual(await storage.putFile('clip.mp4', 'mp4', local, 'video/mp4'), stored);
      if (s3) assert.equal(s3.writes.length, writesBefore);
    });

    it('downloads a stored file to a local path, and rejects for one that is not there', async () => {
      const bytes = randomBytes(70_000);
      const stored = await storage.put('poster.jpg', 'jpg', bytes, 'image/jpeg');
      const target = path.join(work, 'downloaded.jpg');
      await storage.download(stored.fileName, target);
      assert.deepEqual(await readFile(target), bytes);
      await assert.rejects(storage.download('missing.0123456789ab.jpg', path.join(work, 'missing.jpg')));
    });

    it('removes a stored file, and removing it again is not an error', async () => {
      const stored = await storage.put('gone.png', 'png', randomBytes(100), 'image/png');
      await storage.remove(stored.fileName);
      assert.equal(await readStored(stored.fileName), undefined);
      await storage.remove(stored.fileName);
    });

    it('refuses a name that could leave the media folder or prefix', async () => {
      await assert.rejects(storage.download('../gazette.sqlite', path.join(work, 'x')));
      await assert.rejects(storage.remove('../../etc/passwd'));
    });
  });
}

describe('media storage: S3 object metadata and credentials', () => {
  let s3: LocalS3;
  before(async () => {
    s3 = await startLocalS3();
  });
  after(() => s3.close());

  it('names the store in the error when it cannot be reached, not just ECONNREFUSED', async () => {
    const storage = await createMediaStorage(
      loadConfig({ DATA_DIR: tmpdir(), ...s3.env(), S3_ENDPOINT: 'http://127.0.0.1:1' }),
    );
    try {
      await assert.rejects(
        storage.put('a.png', 'png', randomBytes(8), 'image/png'),
        /^Error: media storage s3:\/\/gazette-media at http:\/\/127\.0\.0\.1:1: could not look up .*ECONNREFUSED/,
      );
    } finally {
      storage.close?.();
    }
  });

  it('stores Content-Type and a year of immutable caching on the object, for a CDN serving the bucket', async () => {
    const storage = await createMediaStorage(loadConfig({ DATA_DIR: tmpdir(), ...s3.env() }));
    try {
      const stored = await storage.put('logo.png', 'png', randomBytes(64), 'image/png');
      const head = await rawClient(s3).send(new HeadObjectCommand({ Bucket: s3.bucket, Key: stored.fileName }));
      assert.equal(head.ContentType, 'image/png');
      assert.equal(head.CacheControl, 'public, max-age=31536000, immutable');
    } finally {
      storage.close?.();
    }
  });

  // s3rver checks the access key id but not SigV4 signatures, so the wrong credential here is the key id.
  it('fails with the server’s refusal, not silently, when the credentials are wrong, and never echoes the secret', async () => {
    const env = { ...s3.env(), S3_ACCESS_KEY_ID: 'NOSUCHKEY', S3_SECRET_ACCESS_KEY: 'wrong-secret-value-1234' };
    const storage = await createMediaStorage(loadConfig({ DATA_DIR: tmpdir(), ...env }));
    try {
      await assert.rejects(storage.put('a.png', 'png', randomBytes(8), 'image/png'), (error: Error) => {
        assert.match(
          error.message,
          /^media storage s3:\/\/gazette-media at http:\/\/127\.0\.0\.1:\d+: could not look up a\.[0-9a-f]{12}\.png \(HTTP 403/,
        );
        assert.doesNotMatch(
          `${error.message} ${String(error.stack)} ${JSON.stringify(error)}`,
          /wrong-secret-value-1234/,
        );
        return true;
      });
      assert.doesNotMatch(storage.description, /wrong-secret|S3RVER/);
    } finally {
      storage.close?.();
    }
  });
});

function rawClient(s3: LocalS3 | undefined): S3Client {
  if (!s3) throw new Error('no S3 server');
  return new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: s3rverCredentials,
  });
}
