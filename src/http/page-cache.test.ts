import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { generateArticles } from '../../bench/generate.ts';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';

/** A GET over a real socket, with the raw response headers and bytes. */
function get(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const withoutDate = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'date' && k !== 'keep-alive' && k !== 'connection'));

describe('cached pages over HTTP', () => {
  let site: TestSite;
  let base = '';
  before(async () => {
    site = await createTestSite();
    base = await site.listen();
  });
  after(() => site.close());

  it('answers a repeat visit from memory with the same status, headers and bytes as the first', async () => {
    const url = `${base}/articles/blinken-meets-herzog-ceasefire-push`;
    const first = await get(url); // rendered through Fastify
    const second = await get(url); // answered before routing
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, first.body);
    assert.deepEqual(withoutDate(second.headers), withoutDate(first.headers));
    assert.match(String(second.headers['content-security-policy']), /default-src 'self'/);
  });

  it('honours If-None-Match, Accept-Encoding and HEAD on the fast path', async () => {
    const url = `${base}/tags/diplomacy`;
    const first = await get(url);
    const etag = String(first.headers.etag);
    assert.equal((await get(url, { 'if-none-match': etag })).status, 304);
    const gz = await get(url, { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(gunzipSync(gz.body), first.body);
    const head = await get(url, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(Number(head.headers['content-length']), first.body.length);
  });

  it('shows new content once the cache is invalidated', async () => {
    const url = `${base}/articles/gaza-aid-corridor-explainer`;
    await get(url);
    await site.db
      .updateTable('articles')
      .set({ title: 'A corrected headline' })
      .where('slug', '=', 'gaza-aid-corridor-explainer')
      .execute();
    assert.doesNotMatch((await get(url)).body.toString(), /A corrected headline/, 'still cached');
    site.pages.invalidate();
    assert.match((await get(url)).body.toString(), /A corrected headline/);
  });

  it('never answers a query-string variant or a POST from the page cache', async () => {
    await get(`${base}/terms`);
    assert.equal((await get(`${base}/terms?version=one`)).status, 400);
    assert.equal((await get(`${base}/terms`, {}, 'POST')).status, 404);
  });
});

describe('the page cache under a byte budget', () => {
  let site: TestSite;
  let base = '';
  const hot = '/articles/blinken-meets-herzog-ceasefire-push';
  before(async () => {
    site = await createTestSite({ env: { PAGE_CACHE_MB: '1' } });
    await generateArticles(site.db, 200);
    base = await site.listen();
  });
  after(() => site.close());

  it('keeps under its budget while serving many distinct pages, dropping the least recently used one by one', async () => {
    assert.equal(site.pages.maxBytes, 1024 * 1024);
    const first = await get(`${base}${hot}`);
    assert.equal(first.status, 200);
    let largest = 0;
    // Every generated article once (every 50th is a draft: 404, never cached), each in another coding, so
    // the compressed forms made on demand count too; the hot page read again every few pages.
    for (let n = 1; n < 200; n++) {
      const response = await get(`${base}/articles/bench-article-${n}`, {
        'accept-encoding': ['br', 'gzip', 'identity'][n % 3] ?? '',
      });
      assert.equal(response.status, n % 50 === 0 ? 404 : 200);
      assert.ok(site.pages.bytes <= site.pages.maxBytes, `${site.pages.bytes} bytes held after page ${n}`);
      largest = Math.max(largest, site.pages.size);
      if (n % 5 === 0) assert.deepEqual((await get(`${base}${hot}`)).body, first.body);
    }
    // No clear-all cliff: the cache stays about full, holding dozens of pages, rather than emptying.
    assert.ok(site.pages.size >= 20 && site.pages.size < 150, `${site.pages.size} pages held (at most ${largest})`);
    assert.ok(site.pages.bytes > site.pages.maxBytes * 0.8, `${site.pages.bytes} bytes held`);

    // The hot page, used all along, is still cached (it shows the old headline); the first walked page is not.
    await site.db
      .updateTable('articles')
      .set({ title: 'A quietly changed headline' })
      .where('slug', 'in', ['blinken-meets-herzog-ceasefire-push', 'bench-article-1'])
      .execute();
    assert.doesNotMatch((await get(`${base}${hot}`)).body.toString(), /A quietly changed headline/);
    assert.match((await get(`${base}/articles/bench-article-1`)).body.toString(), /A quietly changed headline/);
  });

  it('still answers a surviving page on the fast path with its ETag, 304 and compressed forms', async () => {
    const url = `${base}${hot}`;
    const plain = await get(url);
    const br = await get(url, { 'accept-encoding': 'br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.deepEqual(brotliDecompressSync(br.body), plain.body);
    assert.equal((await get(url, { 'if-none-match': String(br.headers.etag), 'accept-encoding': 'br' })).status, 304);
    assert.equal((await get(url, { 'if-none-match': String(plain.headers.etag) })).status, 304);
    assert.ok(site.pages.bytes <= site.pages.maxBytes);
  });

  it('never keeps a page larger than the whole budget, and still serves it', async () => {
    const long = Array.from(
      { length: 15_000 },
      (_, i) => `Paragraph ${i} of a very long record of proceedings, kept whole for the archive.`,
    ).join('\n\n');
    await site.db
      .updateTable('articles')
      .set({ body_markdown: long, body_html: null, body_text: null })
      .where('slug', '=', 'bench-article-2')
      .execute();
    const response = await get(`${base}/articles/bench-article-2`);
    assert.equal(response.status, 200);
    assert.ok(response.body.length > site.pages.maxBytes, `${response.body.length} bytes`);
    assert.ok(site.pages.bytes <= site.pages.maxBytes);
    assert.match((await get(`${base}${hot}`)).body.toString(), /class="article__headline"/);
  });
});
