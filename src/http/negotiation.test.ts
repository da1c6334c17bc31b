import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET over a real socket, so that cached pages may be answered by the fast path before Fastify. */
function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function decoded(answer: Answer): Buffer {
  const coding = answer.headers['content-encoding'];
  if (coding === 'br') return brotliDecompressSync(answer.body);
  if (coding === 'gzip') return gunzipSync(answer.body);
  assert.equal(coding, undefined);
  return answer.body;
}

// Accept-Encoding → the coding RFC 9110 §12.5.3 gives for a body worth compressing: the highest q-value
// wins, q=0 excludes, `*` covers what is not listed; ties go to brotli.
const choices: [string | undefined, string][] = [
  [undefined, 'identity'],
  ['gzip, deflate, br, zstd', 'br'],
  ['br;q=0, gzip', 'gzip'],
  ['br;q=0', 'identity'],
  ['gzip;q=0.5, br;q=0.8', 'br'],
  ['gzip;q=0.9, br;q=0.1', 'gzip'],
  ['BR;Q=0.5, gzip;q=0.4', 'br'],
  ['*', 'br'],
  ['br;q=0, *', 'gzip'],
  ['*;q=0, gzip', 'gzip'],
  ['gzip;q=0, br;q=0', 'identity'],
  ['identity', 'identity'],
  ['deflate', 'identity'],
  ['identity;q=0, gzip;q=0.1', 'gzip'],
  ['', 'identity'],
];

describe('content coding, ETags and conditional requests by RFC 9110', () => {
  let site: TestSite;
  let base = '';
  let css = '';
  before(async () => {
    site = await createTestSite();
    base = await site.listen();
    const signIn = (await get(`${base}/newsroom/sign-in`)).body.toString();
    css = /<link rel="stylesheet" href="(\/assets\/newsroom\.[^"]+)"/.exec(signIn)?.[1] ?? '';
    assert.ok(css);
  });
  after(() => site.close());

  for (const [accept, expected] of choices) {
    it(`Accept-Encoding ${JSON.stringify(accept)} gets ${expected} on a cached page (both paths) and on a stylesheet`, async () => {
      const url = `${base}/articles/gaza-aid-corridor-explainer`;
      const identity = await get(url);
      // The first request after `identity` may already take the fast path; ask twice to cover both answers.
      for (const target of [url, `${base}${css}`, `${base}${css}`]) {
        const plain = await get(target);
        const answer = await get(target, accept === undefined ? {} : { 'accept-encoding': accept });
        assert.equal(answer.status, 200);
        assert.equal(answer.headers['content-encoding'] ?? 'identity', expected, target);
        assert.equal(answer.headers.vary, 'Accept-Encoding');
        assert.deepEqual(decoded(answer), plain.body);
      }
      assert.ok(identity.body.length > 1024);
    });
  }

  it('a small body prefers identity, but is compressed when identity is refused', async () => {
    const url = `${base}/robots.txt`;
    const plain = await get(url);
    assert.ok(plain.body.length < 1024);
    for (let i = 0; i < 2; i++) {
      assert.equal((await get(url, { 'accept-encoding': 'gzip, br' })).headers['content-encoding'], undefined);
      const refused = await get(url, { 'accept-encoding': 'gzip, identity;q=0' });
      assert.equal(refused.headers['content-encoding'], 'gzip');
      assert.deepEqual(decoded(refused), plain.body);
    }
  });

  for (const kind of ['page', 'stylesheet'] as const) {
    it(`gives each coding of a ${kind} its own ETag and answers If-None-Match by weak comparison, lists and *`, async () => {
      const url = kind === 'page' ? `${base}/tags/diplomacy` : `${base}${css}`;
      for (let round = 0; round < 2; round++) {
        const identity = await get(url);
        const gzip = await get(url, { 'accept-encoding': 'gzip' });
        const br = await get(url, { 'accept-encoding': 'br' });
        const etags = [identity, gzip, br].map((a) => String(a.headers.etag));
        assert.equal(new Set(etags).size, 3, etags.join(' '));
        const [plainTag = '', gzipTag = '', brTag = ''] = etags;
        for (const [headers, ifNoneMatch] of [
          [{}, plainTag],
          [{}, `W/${plainTag}`],
          [{ 'accept-encoding': 'gzip' }, `"nope", ${gzipTag}`],
          [{ 'accept-encoding': 'br' }, `W/"nope",W/${brTag}`],
          [{ 'accept-encoding': 'br' }, '*'],
        ] as const) {
          const answer = await get(url, { ...headers, 'if-none-match': ifNoneMatch });
          assert.equal(answer.status, 304, `${ifNoneMatch} (${JSON.stringify(headers)})`);
          assert.equal(answer.body.length, 0);
          assert.equal(answer.headers.vary, 'Accept-Encoding');
        }
        // A copy of another coding is not this representation.
        const other = await get(url, { 'accept-encoding': 'br', 'if-none-match': gzipTag });
        assert.equal(other.status, 200);
        assert.equal(other.headers['content-encoding'], 'br');
        assert.equal(other.headers.etag, brTag);
        assert.equal((await get(url, { 'if-none-match': '"nope"' })).status, 200);
      }
    });
  }

  it('serves both stylesheets brotli-compressed when accepted, as immutable CSS', async () => {
    const home = (await get(`${base}/`)).body.toString();
    const siteCss = /<link rel="stylesheet" href="(\/assets\/site\.[^"]+)"/.exec(home)?.[1] ?? '';
    for (const sheet of [siteCss, css]) {
      const answer = await get(`${base}${sheet}`, { 'accept-encoding': 'gzip, deflate, br' });
      assert.equal(answer.headers['content-encoding'], 'br', sheet);
      assert.match(String(answer.headers['content-type']), /^text\/css/);
      assert.match(String(answer.headers['cache-control']), /immutable/);
      assert.ok(
        answer.body.length < decoded(answer).length / 3,
        `${sheet}: ${answer.body.length} of ${decoded(answer).length} bytes`,
      );
    }
  });
});
