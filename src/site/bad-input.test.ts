import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';

/** Sends a raw request line over a real socket (no client normalises it) and reads the status and body. */
async function rawRequest(
  base: string,
  target: string,
  headers: string[] = [],
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`,
      );
    });
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    socket.on('error', reject);
  });
}

describe('bad input from visitors', () => {
  let site: TestSite;
  let base = '';
  before(async () => {
    site = await createTestSite();
    base = await site.listen();
  });
  after(() => site.close());

  const hostile = '<script>alert(1)</script>';

  for (const target of [
    '/articles/..%2f..%2fetc%2fpasswd',
    '/articles/%2e%2e%2f%2e%2e%2fpackage.json',
    '/..%2f..%2f..%2fetc%2fpasswd',
    '/assets/..%2fsite.css',
    '/articles/%00',
    '/articles/abc%00def',
    '/tags/%zz',
    '/authors/%E0%A4%A',
    `/articles/${'a'.repeat(3000)}`,
    `/?q=${'x'.repeat(5000)}`,
    '/articles/UPPER-Case',
    '/articles/slug with spaces',
    '/page/99999999999999999999',
    '/%ff%fe',
    '/articles/%C0%AE%C0%AE',
  ]) {
    it(`answers ${target.length > 60 ? `${target.slice(0, 40)}… (${target.length} chars)` : target} with a 4xx page`, async () => {
      const res = await rawRequest(base, target.replaceAll(' ', '%20'));
      assert.ok(res.status >= 400 && res.status < 500, `got ${res.status}`);
      assert.doesNotMatch(res.body, /root:x:0|"name": "gazette"|\bat .+\.ts:\d+/);
    });
  }

  it('refuses a raw NUL byte or a control character in the request line', async () => {
    for (const target of ['/articles/a\u0000b', '/tags/a\u0001']) {
      const res = await rawRequest(base, target);
      assert.ok(res.status >= 400 && res.status < 500, `got ${res.status}`);
    }
  });

  it('refuses an over-long URL with 414, and an over-long header block with 431', async () => {
    assert.equal((await rawRequest(base, `/tags/${'x'.repeat(2100)}`)).status, 414);
    assert.equal((await rawRequest(base, '/', [`X-Long: ${'y'.repeat(20_000)}`])).status, 431);
  });

  it('ignores odd and unknown query strings on pages instead of failing', async () => {
    for (const query of [
      '?utm_source=newsletter',
      '?a[b][c]=1&&&=&x',
      '?%zz=1',
      `?q=${encodeURIComponent(hostile)}`,
      '?page=-1',
    ]) {
      const res = await fetch(`${base}/articles/blinken-meets-herzog-ceasefire-push${query}`);
      assert.equal(res.status, 200, query);
      assert.doesNotMatch(await res.text(), /<script>alert/);
    }
  });

  it('never reflects what a visitor sends unescaped', async () => {
    for (const target of [
      `/articles/${encodeURIComponent(hostile)}`,
      `/${encodeURIComponent(hostile)}`,
      `/terms?version=${encodeURIComponent(hostile)}`,
    ]) {
      const res = await rawRequest(base, target);
      assert.ok(res.status >= 400 && res.status < 500, `${target}: ${res.status}`);
      assert.doesNotMatch(res.body, /<script>alert/);
    }
    const json = await fetch(`${base}/articles/${encodeURIComponent(hostile)}`, {
      headers: { accept: 'application/json' },
    });
    assert.doesNotMatch(await json.text(), /<script>/);
  });

  it('answers methods a page does not support with a 4xx, not a 5xx', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${base}/articles/blinken-meets-herzog-ceasefire-push`, {
        method,
        body: method === 'DELETE' ? null : 'x=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.ok(res.status >= 400 && res.status < 500, `${method}: ${res.status}`);
    }
  });

  it('keeps the 404 cache-free so unknown slugs cannot fill memory', async () => {
    const before = site.pages.size;
    for (let i = 0; i < 50; i++) await fetch(`${base}/articles/missing-${i}`);
    assert.equal(site.pages.size, before);
  });
});
