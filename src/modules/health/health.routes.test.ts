import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { buildApp, type App } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';

describe('/healthz and /readyz', () => {
  let t: TestDatabase;
  let site: App;
  let base = '';
  before(async () => {
    t = await createTestDatabase('sqlite');
    site = await buildApp({ config: loadConfig({ DATA_DIR: t.dataDir, SITE_URL: 'http://gazette.test' }), db: t.db });
    await site.app.listen({ port: 0, host: '127.0.0.1' });
    const address = site.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    await site.app.close();
    await t.drop();
  });

  it('/healthz answers 200 without caching', async () => {
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${base}/healthz`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await response.json(), { status: 'ok' });
    }
  });

  it('/readyz reports the database, the migrations and the mail transport', async () => {
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as { status: string; checks: Record<string, string> };
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.database, 'ok');
    assert.equal(body.checks.migrations, 'ok');
    assert.equal(body.checks.mail, 'outbox');
    assert.ok(!JSON.stringify(body).includes(t.dataDir), 'no path on disk in a public answer');
  });

  it('/readyz answers 503 with the reason while migrations are pending, and is never served from the page cache', async () => {
    // A process that started before `gazette migrate` of a newer release must not take traffic.
    const fresh = await createTestDatabase('sqlite');
    const other = await buildApp({ config: loadConfig({ DATA_DIR: fresh.dataDir, SITE_URL: 'http://gazette.test' }), db: fresh.db });
    try {
      await sql`DELETE FROM kysely_migration WHERE name = (SELECT max(name) FROM kysely_migration)`.execute(fresh.db);
      const response = await other.app.inject({ url: '/readyz' });
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers['retry-after'], '5');
      const body = response.json<{ status: string; reason: string; checks: { migrations: string } }>();
      assert.equal(body.status, 'not ready');
      assert.match(body.reason, /migrations pending/);
      assert.match(body.checks.migrations, /^pending: \d+_/);
    } finally {
      await other.app.close();
      await fresh.drop();
    }
  });

  it('/readyz answers 503 when the database cannot be reached; /healthz stays 200', async () => {
    const fresh = await createTestDatabase('sqlite');
    const other = await buildApp({ config: loadConfig({ DATA_DIR: fresh.dataDir, SITE_URL: 'http://gazette.test' }), db: fresh.db });
    try {
      assert.equal((await other.app.inject({ url: '/readyz' })).statusCode, 200);
      await fresh.db.destroy();
      const response = await other.app.inject({ url: '/readyz' });
      assert.equal(response.statusCode, 503);
      assert.match(response.json<{ reason: string }>().reason, /database unreachable/);
      assert.equal((await other.app.inject({ url: '/healthz' })).statusCode, 200);
    } finally {
      await other.app.close();
      await fresh.drop().catch(() => {});
    }
  });

  it('/readyz turns 503 "shutting down" once draining starts, over the same server that answered 200', async () => {
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    site.startDraining();
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 503);
    assert.deepEqual(((await response.json()) as { reason: string }).reason, 'shutting down');
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'alive while draining');
  });
});
