import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from './app.ts';
import { loadConfig } from './config.ts';
import { createLogger, loggablePath } from './logging.ts';
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

describe('structured logs', () => {
  let t: TestDatabase;
  let site: App;
  const lines: string[] = [];
  const accessLines = () => lines.map((l) => JSON.parse(l) as AccessLine).filter((l) => l.msg === 'request');

  before(async () => {
    t = await createTestDatabase('sqlite');
    await seedDemoPublication(t.db, { dataDir: t.dataDir });
    const config = loadConfig({ DATA_DIR: t.dataDir, SITE_URL: 'http://gazette.test', LOG_LEVEL: 'info' });
    const logger = createLogger(config, { write: (line: string) => void lines.push(line) });
    site = await buildApp({ config, db: t.db, logger });
  });
  after(async () => {
    await site.app.close();
    await t.drop();
  });

  it('writes one JSON access line per request, with the request id echoed in the response', async () => {
    lines.length = 0;
    const response = await site.app.inject({ url: '/articles/blinken-meets-herzog-ceasefire-push?utm_source=x', headers: { 'x-request-id': 'lb-4f2a.77' } });
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
      const response = await site.app.inject({ url: '/healthz', headers: given === undefined ? {} : { 'x-request-id': given } });
      const id = String(response.headers['x-request-id']);
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(accessLines()[0]?.reqId, id);
    }
  });

  it('never writes cookies, authorization headers, tokens in query strings or form bodies', async () => {
    lines.length = 0;
    const secrets = ['TOKENSECRET123', 'COOKIESECRET456', 'BEARERSECRET789', 'PASSWORDSECRET000', 'LINKSECRET111'];
    const headers = { cookie: `gz_session=${secrets[1]}; gz_csrf=${secrets[1]}`, authorization: `Bearer ${secrets[2]}` };
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
});
