import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

/** s3rver's fixed credentials: it checks every request's SigV4 signature against them. */
export const s3rverCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** The environment that points Gazette at this server, with `prefix` under the bucket. */
  env: (prefix?: string) => Record<string, string>;
  /** Keys of the objects written so far, one entry per write (PutObject, CopyObject…), in order. */
  writes: string[];
  close: () => Promise<void>;
}

/**
 * A real S3-compatible HTTP server (s3rver) on the loopback, storing objects in a temporary folder, with
 * one bucket. The AWS SDK talks to it exactly as to S3: signed requests, XML errors, Range, HeadObject.
 */
export async function startLocalS3(bucket = 'gazette-media'): Promise<LocalS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'gazette-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const writes: string[] = [];
  server.on('event', (event) => {
    for (const record of event.Records)
      if (record.eventName.startsWith('ObjectCreated')) writes.push(record.s3.object.key);
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    writes,
    env: (prefix = '') => ({
      MEDIA_URL: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
      S3_ENDPOINT: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: s3rverCredentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey,
    }),
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
