import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from './app.ts';
import { loadConfig } from './config.ts';
import { chooseLogFormat, createLogger, loggablePath } from './logging.ts';
import { seedDemoPublication } from './modules/seed/seed.service.ts';
import { createTestDatabase, type TestDatabase } from '../test/helpers/databases.ts';

interface AccessLine {
  level: number;
  msg: string;
  reqId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
}

/** The demo site on a fresh SQLite database, its log lines pushed to `lines`. */
async function demoSiteLoggingTo(
  lines: string[],
  env: Record<string, string> = {},
): Promise<{ site: App; close: () => Promise<void> }> {
  const t: TestDatabase = await createTestDatabase('sqlite');
  await seedDemoPublication(t.db, { dataDir: t.dataDir });
  const config = loadConfig({ DATA_DIR: t.dataDir, SITE_URL: 'http://gazette.test', LOG_LEVEL: 'info', ...env });
  const logger = createLogger(config, { write: (line: string) => void lines.push(line) });
  const site = await buildApp({ config, db: t.db, logger });
  return { site, close: async () => (await site.app.close(), await t.drop()) };
}

describe('structured logs', () => {
  let site: App;
  let close: () => Promise<void>;
  const lines: string[] = [];
  const accessLines = () => lines.map((l) => JSON.parse(l) as AccessLine).filter((l) => l.msg === 'request');

  before(async () => ({ site, close } = await demoSiteLoggingTo(lines)));
  after(() => close());

  it('writes one JSON access line per request, with the request id echoed in the response', async () => {
    lines.length = 0;
    const response = await site.app.inject({
      url: '/articles/blinken-meets-herzog-ceasefire-push?utm_source=x',
      headers: { 'x-request-id': 'lb-4f2a.77' },
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['x-request-id'], 'lb-4f2a.77');
    const access = accessLines();
    assert.equal(access.length, 1);
    const line = access[0]!;
    assert.equal(line.level, 30);
    assert.equal(line.reqId, 'lb-4f2a.77');
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/articles/blinken-meets-herzog-ceasefire-push?utm_source=[redacted]');
    assert.equal(line.status, 200);
    assert.equal(typeof line.ms, 'number');
  });

  it('replaces a missing or unsafe x-request-id by a fresh UUID', async () => {
    for (const given of [undefined, '<script>alert(1)</script>', 'x'.repeat(500), 'two words']) {
      lines.length = 0;
      const response = await site.app.inject({
        url: '/healthz',
        headers: given === undefined ? {} : { 'x-request-id': given },
      });
      const id = String(response.headers['x-request-id']);
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(accessLines()[0]?.reqId, id);
    }
  });

  it('never writes cookies, authorization headers, tokens in query strings or form bodies', async () => {
    lines.length = 0;
    const secrets = ['TOKENSECRET123', 'COOKIESECRET456', 'BEARERSECRET789', 'PASSWORDSECRET000', 'LINKSECRET111'];
    const headers = {
      cookie: `gz_session=${secrets[1]}; gz_csrf=${secrets[1]}`,
      authorization: `Bearer ${secrets[2]}`,
    };
    await site.app.inject({ url: `/newsletter/confirm?token=${secrets[0]}`, headers });
    await site.app.inject({ url: `/newsletter/unsubscribe?token=${secrets[0]}&utm=1`, headers });
    await site.app.inject({ url: `/newsroom/sign-in/link?token=${secrets[4]}`, headers });
    await site.app.inject({
      method: 'POST',
      url: '/newsroom/sign-in',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `email=editor%40example.test&password=${secrets[3]}`,
    });
    const all = lines.join('\n');
    assert.ok(accessLines().length >= 4, all);
    for (const secret of secrets) assert.ok(!all.includes(secret), `${secret} was logged:\n${all}`);
    assert.ok(accessLines().some((l) => l.path === '/newsletter/confirm?token=[redacted]'));
  });

  it('keeps query values that only select a page', () => {
    assert.equal(loggablePath('/search?q=ceasefire&page=2'), '/search?q=ceasefire&page=2');
    assert.equal(loggablePath('/newsletter/me?token=abc&page=2'), '/newsletter/me?token=[redacted]&page=2');
    assert.equal(loggablePath('/x?flag'), '/x?flag');
  });

  it('LOG_FORMAT=auto writes readable lines to a terminal and JSON anywhere else; a set LOG_FORMAT wins', () => {
    assert.equal(chooseLogFormat('auto', true), 'pretty');
    assert.equal(chooseLogFormat('auto', false), 'json');
    assert.equal(chooseLogFormat('json', true), 'json');
    assert.equal(chooseLogFormat('pretty', false), 'pretty');
    assert.equal(loadConfig({}).logFormat, 'auto');
  });
});

describe('readable logs (LOG_FORMAT=pretty)', () => {
  let site: App;
  let close: () => Promise<void>;
  const lines: string[] = [];

  before(async () => ({ site, close } = await demoSiteLoggingTo(lines, { LOG_FORMAT: 'pretty' })));
  after(() => close());

  it('writes one line per request: time, level, method, path, status, duration and request id', async () => {
    lines.length = 0;
    await site.app.inject({
      url: '/articles/blinken-meets-herzog-ceasefire-push',
      headers: { 'x-request-id': 'lb-7' },
    });
    const access = lines.filter((l) => l.includes(' GET /articles/'));
    assert.equal(access.length, 1, lines.join(''));
    assert.match(
      access[0]!,
      /^\d\d:\d\d:\d\d INFO  GET \/articles\/blinken-meets-herzog-ceasefire-push 200 [\d.]+ ms \(req lb-7\)\n$/,
    );
  });

  it('redacts secrets as the JSON format does', async () => {
    lines.length = 0;
    const secrets = ['TOKENSECRET123', 'COOKIESECRET456', 'BEARERSECRET789'];
    const headers = { cookie: `gz_session=${secrets[1]}`, authorization: `Bearer ${secrets[2]}` };
    await site.app.inject({ url: `/newsletter/confirm?token=${secrets[0]}`, headers });
    await site.app.inject({ url: `/newsroom/sign-in/link?token=${secrets[0]}`, headers });
    site.app.log.info({ headers, authorization: `Bearer ${secrets[2]}`, cookie: secrets[1] }, 'with headers');
    const all = lines.join('');
    assert.match(all, /GET \/newsletter\/confirm\?token=\[redacted\] /);
    assert.match(all, /with headers .*authorization=\[redacted\]/);
    for (const secret of secrets) assert.ok(!all.includes(secret), `${secret} was logged:\n${all}`);
  });
});
