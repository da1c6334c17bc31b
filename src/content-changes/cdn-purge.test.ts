import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createTestDatabase } from '../../test/helpers/databases.ts';
import { eventually } from '../../test/helpers/eventually.ts';
import { runGazette } from '../../test/helpers/gazette-process.ts';
import { createCdnPurger } from './cdn-purge.ts';
import { createContentChanges } from './content-changes.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: { event: string; site: string; version: number; purge: string; changedAt: string };
}

/** A stand-in for a CDN's purge endpoint: records each request, answers with the next scripted status. */
describe('CDN purge on publish (CDN_PURGE_URL)', () => {
  let server: Server;
  let url = '';
  const received: Received[] = [];
  let statuses: number[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: JSON.parse(body || '{}') as Received['body'],
        });
        res.writeHead(statuses.shift() ?? 200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/purge?key=k1`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    received.length = 0;
    statuses = [];
  });

  const recorder = () => {
    const lines: string[] = [];
    return {
      lines,
      log: { info: (m: string) => void lines.push(`info ${m}`), warn: (m: string) => void lines.push(`warn ${m}`) },
    };
  };

  it('`gazette invalidate` POSTs the change to CDN_PURGE_URL with its authorization, and never prints the secret', async () => {
    const t = await createTestDatabase('sqlite');
    try {
      const env = {
        DATABASE_URL: t.url,
        DATA_DIR: t.dataDir,
        SITE_URL: 'https://news.example.test',
        CDN_PURGE_URL: url,
        CDN_PURGE_AUTHORIZATION: 'Bearer s3cret-purge-token',
        LOG_LEVEL: 'info',
      };
      const { code, stdout, stderr } = await runGazette(['invalidate'], env);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /Content version 1: every web process drops its cached pages/);
      assert.equal(received.length, 1);
      const [purge] = received;
      assert.equal(purge?.method, 'POST');
      assert.equal(purge?.url, '/purge?key=k1');
      assert.equal(purge?.headers.authorization, 'Bearer s3cret-purge-token');
      assert.equal(purge?.headers['content-type'], 'application/json');
      assert.deepEqual(
        { ...purge?.body, changedAt: undefined },
        { event: 'content.changed', site: 'https://news.example.test', version: 1, purge: 'all', changedAt: undefined },
      );
      assert.ok(!`${stdout}${stderr}`.includes('s3cret'), 'the authorization is never printed');
      assert.ok(!`${stdout}${stderr}`.includes('key=k1'), 'nor the query string of the purge URL');
    } finally {
      await t.drop();
    }
  });

  it('retries a failing purge with backoff until the CDN accepts it', async () => {
    statuses = [503, 500];
    const { lines, log } = recorder();
    const purger = createCdnPurger({ url, siteUrl: 'https://news.example.test', delayMs: 0, retryBaseMs: 20, log });
    purger.purge(7);
    await eventually(() => lines.length > 0, 'a purge to be logged', 5000);
    assert.equal(received.length, 3);
    assert.deepEqual(
      received.map((r) => r.body.version),
      [7, 7, 7],
    );
    assert.match(lines[0] ?? '', /^info Purged the CDN \(http:\/\/127\.0\.0\.1:\d+\/purge\) for content version 7/);
    await purger.stop();
  });

  it('a CDN that cannot be reached never blocks publishing: contentChanged resolves at once, the failure is logged', async () => {
    const t = await createTestDatabase('sqlite');
    const { lines, log } = recorder();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const cdn = createCdnPurger({
      url: `http://127.0.0.1:${port}/purge`,
      authorization: 'Bearer never-logged',
      siteUrl: 'https://x.test',
      delayMs: 0,
      retryBaseMs: 10,
      attempts: 3,
      log,
    });
    const changes = createContentChanges({ db: t.db, dialect: 'sqlite', cdn });
    try {
      await changes.start();
      const started = Date.now();
      await changes.contentChanged();
      assert.ok(Date.now() - started < 500, 'recorded without waiting for the CDN');
      await eventually(() => lines.some((l) => l.startsWith('warn')), 'the failure to be logged', 5000);
      assert.match(
        lines.join('\n'),
        new RegExp(
          `Could not purge the CDN \\(http://127\\.0\\.0\\.1:${port}/purge\\) for content version 1 after 3 attempt\\(s\\): ECONNREFUSED`,
        ),
      );
      assert.ok(!lines.join('\n').includes('never-logged'));
    } finally {
      await changes.stop();
      await t.drop();
    }
  });

  it('a burst of changes is folded into one purge for the newest version', async () => {
    const { lines, log } = recorder();
    const purger = createCdnPurger({ url, siteUrl: 'https://news.example.test', delayMs: 100, log });
    for (let version = 1; version <= 10; version++) purger.purge(version);
    await eventually(() => lines.length > 0, 'a purge to be logged', 5000);
    // What is checked is that nothing more is sent afterwards: an absence, so time passing is the point.
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.deepEqual(
      received.map((r) => r.body.version),
      [10],
    );
    await purger.stop();
  });
});
