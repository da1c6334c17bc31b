import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';

/** A GET over a real socket, with the raw response headers and bytes. */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
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

const withoutDate = (headers: Record<string, unknown>) => Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'date' && k !== 'keep-alive' && k !== 'connection'));

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
    await site.db.updateTable('articles').set({ title: 'A corrected headline' }).where('slug', '=', 'gaza-aid-corridor-explainer').execute();
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
