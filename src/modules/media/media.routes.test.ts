import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLocalS3, type LocalS3 } from '../../../test/helpers/s3.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';

// The same rules whether the bytes come from DATA_DIR or are proxied from an S3-compatible store (s3rver).
for (const backend of ['filesystem', 's3'] as const)
  describe(`media files over HTTP (${backend})`, () => {
    let site: TestSite;
    let s3: LocalS3 | undefined;
    let video = '';
    let captions = '';
    let size = 0;
    before(async () => {
      if (backend === 's3') s3 = await startLocalS3();
      site = await createTestSite({ env: s3?.env('the-judean') ?? {} });
      const page = (await site.app.inject({ url: '/articles/blinken-meets-herzog-ceasefire-push' })).body;
      video = /<source src="([^"]+\.mp4)"/.exec(page)?.[1] ?? '';
      captions = /<track kind="captions" src="([^"]+)"/.exec(page)?.[1] ?? '';
      const row = await site.db
        .selectFrom('media')
        .select('byte_size')
        .where('mime_type', '=', 'video/mp4')
        .executeTakeFirstOrThrow();
      size = row.byte_size;
      // With MEDIA_URL=s3://…, the seed wrote the demo's files to the bucket, under the prefix.
      if (s3)
        assert.ok(
          s3.writes.includes(`the-judean/${decodeURIComponent(video.slice('/media/'.length))}`),
          s3.writes.join(', '),
        );
    });
    after(async () => {
      await site.close();
      await s3?.close();
    });
    const get = (url: string, headers: Record<string, string> = {}) => site.app.inject({ url, headers });

    it('serves the whole video with its type, length, ETag, and a year of immutable caching', async () => {
      const res = await get(video);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'video/mp4');
      assert.equal(Number(res.headers['content-length']), size);
      assert.equal(res.rawPayload.length, size);
      assert.equal(res.headers['accept-ranges'], 'bytes');
      assert.ok(res.headers.etag);
      assert.match(String(res.headers['cache-control']), /max-age=31536000.*immutable/);
      // The moov atom sits at the front (faststart), so a browser reads the metadata from the first range.
      assert.equal(res.rawPayload.subarray(4, 8).toString('latin1'), 'ftyp');
      assert.ok(res.rawPayload.subarray(0, 4096).includes(Buffer.from('moov')), 'faststart');
    });

    it('answers HEAD with the headers of a GET and no body', async () => {
      const res = await site.app.inject({ method: 'HEAD', url: video });
      assert.equal(res.statusCode, 200);
      assert.equal(Number(res.headers['content-length']), size);
      assert.equal(res.headers['content-type'], 'video/mp4');
      assert.equal(res.rawPayload.length, 0);
    });

    it('answers a byte range with 206 Partial Content and exactly those bytes', async () => {
      const whole = (await get(video)).rawPayload;
      for (const [range, start, end] of [
        ['bytes=0-1023', 0, 1023],
        ['bytes=1000-', 1000, size - 1],
        ['bytes=-500', size - 500, size - 1],
      ] as const) {
        const res = await get(video, { range });
        assert.equal(res.statusCode, 206, range);
        assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${size}`);
        assert.deepEqual(res.rawPayload, whole.subarray(start, end + 1));
      }
    });

    it('answers an unsatisfiable range with 416 and the full length', async () => {
      const res = await get(video, { range: `bytes=${size + 10}-` });
      assert.equal(res.statusCode, 416);
      assert.equal(res.headers['content-range'], `bytes */${size}`);
    });

    it('answers a suffix range longer than the file with the whole file as 206 (RFC 9110 §14.1.3)', async () => {
      const whole = (await get(video)).rawPayload;
      const res = await get(video, { range: `bytes=-${size + 1000}` });
      assert.equal(res.statusCode, 206);
      assert.equal(res.headers['content-range'], `bytes 0-${size - 1}/${size}`);
      assert.deepEqual(res.rawPayload, whole);
      const past = await get(video, { range: `bytes=10-${size + 1000}` });
      assert.equal(past.statusCode, 206);
      assert.equal(past.headers['content-range'], `bytes 10-${size - 1}/${size}`);
    });

    // We send one range at most; RFC 9110 §14.2 lets a server ignore the rest, and requires it for other units.
    for (const range of ['bytes=0-1,5-9', 'bytes=0-1, 5-', 'items=0-5', 'Items=0-1,2-3']) {
      it(`ignores a Range with several ranges or another unit (${range}) and sends the whole file with 200`, async () => {
        const res = await get(video, { range });
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-range'], undefined);
        assert.equal(res.rawPayload.length, size);
      });
    }

    for (const range of ['bytes=abc', 'bytes=5-1x', 'bytes=9-3', 'bytes=-0', 'bytes=']) {
      it(`refuses a malformed Range (${range}) with 416, not a 5xx`, async () => {
        const res = await get(video, { range });
        assert.equal(res.statusCode, 416);
        assert.equal(res.headers['content-range'], `bytes */${size}`);
      });
    }

    it('serves WebVTT captions as text/vtt', async () => {
      const res = await get(captions);
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/vtt/);
      assert.match(res.body, /^WEBVTT/);
    });

    it('answers a repeat request with 304 from the ETag', async () => {
      const etag = String((await get(video)).headers.etag);
      assert.equal((await get(video, { 'if-none-match': etag })).statusCode, 304);
    });

    it('compares If-None-Match weakly, in a list, and takes * (RFC 9110 §13.1.2)', async () => {
      const etag = String((await get(video)).headers.etag);
      for (const ifNoneMatch of [`W/${etag}`, `"other", ${etag}`, `"other",W/${etag}`, '*']) {
        const res = await get(video, { 'if-none-match': ifNoneMatch });
        assert.equal(res.statusCode, 304, ifNoneMatch);
        assert.equal(res.rawPayload.length, 0);
      }
      for (const ifNoneMatch of ['"other"', `"x${etag.slice(1)}`, 'W/"other", "again"'])
        assert.equal((await get(video, { 'if-none-match': ifNoneMatch })).statusCode, 200, ifNoneMatch);
    });

    for (const path of [
      '/media/..%2f..%2fpackage.json',
      '/media/%2e%2e%2fgazette.sqlite',
      '/media/..%5c..%5cpackage.json',
      '/media/.hidden',
      '/media/no-such-file.0123456789ab.mp4',
      '/media/../gazette.sqlite',
    ]) {
      it(`does not serve ${path}`, async () => {
        const res = await get(path);
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${path} gave ${res.statusCode}`);
        assert.doesNotMatch(res.body, /SQLite format|"name": "gazette"/);
      });
    }
  });

describe('media files behind MEDIA_PUBLIC_URL (a CDN or public bucket)', () => {
  let site: TestSite;
  let s3: LocalS3;
  before(async () => {
    s3 = await startLocalS3();
    site = await createTestSite({ env: { ...s3.env(), MEDIA_PUBLIC_URL: 'https://cdn.example/media/' } });
  });
  after(async () => {
    await site.close();
    await s3.close();
  });

  it('redirects /media/<file> there for good, and pages allow images and video from that origin', async () => {
    const page = await site.app.inject({ url: '/articles/blinken-meets-herzog-ceasefire-push' });
    const video = /<source src="([^"]+\.mp4)"/.exec(page.body)?.[1] ?? '';
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /img-src 'self' https:\/\/cdn\.example[ ;]/);
    assert.match(csp, /media-src 'self' https:\/\/cdn\.example[ ;]/);
    const res = await site.app.inject({ url: video });
    assert.equal(res.statusCode, 301);
    assert.equal(res.headers.location, `https://cdn.example/media/${video.slice('/media/'.length)}`);
    assert.match(String(res.headers['cache-control']), /immutable/);
    assert.equal((await site.app.inject({ url: '/media/..%2fgazette.sqlite' })).statusCode, 404);
  });
});
