import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';

describe('media files over HTTP', () => {
  let site: TestSite;
  let video = '';
  let captions = '';
  let size = 0;
  before(async () => {
    site = await createTestSite();
    const page = (await site.app.inject({ url: '/articles/blinken-meets-herzog-ceasefire-push' })).body;
    video = /<source src="([^"]+\.mp4)"/.exec(page)?.[1] ?? '';
    captions = /<track kind="captions" src="([^"]+)"/.exec(page)?.[1] ?? '';
    const row = await site.db.selectFrom('media').select('byte_size').where('mime_type', '=', 'video/mp4').executeTakeFirstOrThrow();
    size = row.byte_size;
  });
  after(() => site.close());
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

  for (const range of ['bytes=abc', 'bytes=0-1,5-9', 'items=0-5', 'bytes=5-1x', 'bytes=0-1, bytes=2-3']) {
    it(`refuses a malformed or multiple Range (${range}) with 416, not a 5xx`, async () => {
      const res = await get(video, { range });
      assert.equal(res.statusCode, 416);
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
