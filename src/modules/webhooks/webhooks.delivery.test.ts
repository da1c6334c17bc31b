import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { eventually } from '../../../test/helpers/eventually.ts';
import { type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import type { TestSite } from '../../../test/helpers/site.ts';
import { buildApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { insertSubscribers } from '../newsletters/newsletters.fixtures.ts';
import { createSecretSealer, getOrCreateSecretKey } from '../settings/index.ts';
import { createSubscriberToken } from '../subscribers/subscribers.tokens.ts';
import { createWebhookDispatcher, type WebhookDispatcher } from './webhooks.dispatcher.ts';
import { Receiver } from './webhooks.fixtures.ts';

const secretFrom = (response: LightMyRequestResponse): string => {
  const match = /<code class="webhook-secret">(whsec_[A-Za-z0-9+/=]+)<\/code>/.exec(response.body);
  assert.ok(match?.[1], `the page shows the secret: ${response.body.slice(0, 3000)}`);
  return match[1];
};

/**
 * Webhooks end to end on each database: an admin registers an endpoint in the newsroom, editors publish,
 * update and unpublish articles through the editor and a reader unsubscribes through the one-click link,
 * while the receiver is down; it comes back, and every event arrives once, signed, in order per article.
 */
describeEachDatabase('webhook deliveries', (dialect) => {
  let t: TestDatabase;
  let site: TestSite;
  let admin: NewsroomClient;
  let dispatcher: WebhookDispatcher;
  let secretKey: string;
  const receiver = new Receiver();
  const logLines: string[] = [];

  before(async () => {
    t = await createTestDatabase(dialect);
    const config = loadConfig({ DATABASE_URL: t.url, DATA_DIR: t.dataDir, SITE_URL: 'http://gazette.test', PORT: '0' });
    const { app, pages, contentChanged } = await buildApp({ config, db: t.db });
    site = {
      app,
      db: t.db,
      config,
      pages,
      contentChanged,
      seededAt: new Date(),
      listen: () => Promise.reject(new Error('unused')),
      close: () => app.close(),
    };
    admin = await signInAs(site, 'admin');
    secretKey = await getOrCreateSecretKey(t.db, config.secretKey);
    dispatcher = createWebhookDispatcher({
      db: t.db,
      sealer: createSecretSealer(secretKey),
      siteUrl: config.siteUrl,
      log: (line) => logLines.push(line),
      // The real schedule is seconds to hours; the same rules at a test's pace.
      options: { pollMs: 25, retryDelaysMs: [50, 100, 200], giveUpAfterMs: 120_000, timeoutMs: 5_000 },
    });
  });
  after(async () => {
    await dispatcher.stop();
    await receiver.stop();
    await site.close();
    await t.drop();
  });

  const attempts = async (where: { failed?: boolean } = {}) => {
    const rows = await t.db.selectFrom('webhook_attempts').select(['status_code', 'error']).execute();
    return where.failed ? rows.filter((r) => r.error !== null).length : rows.length;
  };

  it('delivers every event once, signed and in order per article, after the receiver was down for a while', async () => {
    await receiver.start();
    await receiver.stop(); // its port is now closed: connections are refused
    const registered = await admin.post('/newsroom/webhooks', {
      url: `http://127.0.0.1:${receiver.port}/hooks`,
      events: ['post.*', 'subscriber.unsubscribed'],
      allow_private: '1',
    });
    assert.equal(registered.statusCode, 200);
    receiver.secrets = [secretFrom(registered)];
    dispatcher.start();

    const publish = async (title: string) => {
      const response = await admin.post('/newsroom/articles', { title, body: 'Text.', action: 'publish' });
      assert.equal(response.statusCode, 303, response.body.slice(0, 500));
      return Number(/\/newsroom\/articles\/(\d+)/.exec(String(response.headers.location))?.[1]);
    };
    const edit = async (id: number, action: 'save' | 'unpublish', title: string) => {
      const row = await t.db.selectFrom('articles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const response = await admin.post(`/newsroom/articles/${id}`, {
        title,
        slug: row.slug,
        body: `${title}.`,
        revision: String(row.revision),
        action,
      });
      assert.equal(response.statusCode, 303, response.body.slice(0, 500));
    };
    const a = await publish('Harbour reopens');
    const b = await publish('Ferry timetable');
    await edit(a, 'save', 'Harbour reopens at dawn');
    await edit(b, 'save', 'Ferry timetable, revised');
    await edit(a, 'save', 'Harbour reopens at dawn, officially');
    await edit(a, 'unpublish', 'Harbour reopens at dawn, officially');
    await insertSubscribers(t.db, 1, 'confirmed', 'leaving');
    const subscriber = await t.db.selectFrom('subscribers').select('id').executeTakeFirstOrThrow();
    const unsubscribe = await site.app.inject({
      method: 'POST',
      url: `/newsletter/unsubscribe?token=${createSubscriberToken(secretKey, 'unsubscribe', subscriber.id)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(unsubscribe.statusCode, 200);

    // Down: attempts fail (refused), each logged, and nothing reaches anyone.
    await eventually(async () => (await attempts({ failed: true })) >= 6, 'several refused attempts');
    const down = await admin.request({ method: 'GET', url: '/newsroom/webhooks/1' });
    assert.match(down.body, /connection refused/);

    await receiver.start(receiver.port);
    await eventually(
      () => receiver.received.length >= 7,
      () => `7 deliveries, got ${JSON.stringify(receiver.received)}`,
      30_000,
    );
    // Settled: nothing more is on its way (a repeat would arrive now).
    await eventually(
      async () =>
        (await t.db.selectFrom('webhook_deliveries').select('id').where('status', '!=', 'delivered').execute())
          .length === 0,
      'every delivery recorded delivered',
    );
    await dispatcher.runOnce();

    assert.equal(receiver.rejected, 0, 'every signature verified');
    assert.equal(receiver.received.length, 7);
    assert.equal(new Set(receiver.received.map((r) => r.id)).size, 7, 'no event arrived twice');
    const of = (subject: string) => receiver.received.filter((r) => r.subject === subject);
    assert.deepEqual(
      of(`post:${a}`).map((r) => r.type),
      ['post.published', 'post.updated', 'post.updated', 'post.unpublished'],
    );
    assert.deepEqual(
      of(`post:${b}`).map((r) => r.type),
      ['post.published', 'post.updated'],
    );
    const revisions = of(`post:${a}`).map((r) => r.revision ?? 0);
    assert.deepEqual(
      revisions,
      [...revisions].sort((x, y) => x - y),
      'in the order they happened',
    );
    assert.deepEqual(
      of(`subscriber:${subscriber.id}`).map((r) => r.type),
      ['subscriber.unsubscribed'],
    );
    assert.match(of(`post:${b}`)[0]?.url ?? '', /^http:\/\/gazette\.test\/articles\/ferry-timetable$/);

    // The log: each delivery with its status and response time, the endpoint's answer shown as text.
    const log = await admin.request({ method: 'GET', url: '/newsroom/webhooks/1' });
    assert.equal(log.statusCode, 200);
    assert.match(log.body, /post\.unpublished/);
    assert.match(log.body, /<td>200<\/td>\s*<td>\d+ ms<\/td>/);
    assert.ok(log.body.includes('&lt;b&gt;thanks&lt;/b&gt;'), 'the answer is escaped');
    assert.ok(!log.body.includes('<b>thanks</b>'));
    const list = await admin.request({ method: 'GET', url: '/newsroom/webhooks' });
    assert.match(list.body, /7 delivered, 0 waiting, 0 failed/);
  });

  it('signs with the old and the new secret for a day after a rotation', async () => {
    const rotated = await admin.post('/newsroom/webhooks/1/rotate', {});
    assert.equal(rotated.statusCode, 200);
    const fresh = secretFrom(rotated);
    // A receiver that knows only the old secret, and one that knows only the new one, both verify.
    receiver.secrets = [receiver.secrets[0] ?? '', fresh];
    const before = receiver.received.length;
    const response = await admin.post('/newsroom/articles', {
      title: 'After the rotation',
      body: 'Text.',
      action: 'publish',
    });
    assert.equal(response.statusCode, 303);
    await eventually(() => receiver.received.length > before, 'the delivery after the rotation');
    assert.equal(receiver.rejected, 0);
  });

  it('follows no redirect: a 3xx is a failed attempt, and its Location is never requested', async () => {
    const elsewhere = new Receiver();
    await elsewhere.start();
    receiver.answer = { status: 307, body: '', headers: { location: `http://127.0.0.1:${elsewhere.port}/` } };
    const before = await attempts();
    const response = await admin.post('/newsroom/articles', { title: 'Redirected', body: 'Text.', action: 'publish' });
    assert.equal(response.statusCode, 303);
    await eventually(
      async () =>
        (await t.db.selectFrom('webhook_attempts').select('id').where('status_code', '=', 307).execute()).length >= 2,
      'two attempts answered 307',
    );
    assert.ok((await attempts()) >= before + 2);
    assert.equal(elsewhere.received.length + elsewhere.rejected, 0, 'the redirect target got nothing');
    await elsewhere.stop();
    receiver.answer = { status: 200, body: 'ok' };
    await eventually(
      async () =>
        (await t.db.selectFrom('webhook_deliveries').select('id').where('status', '!=', 'delivered').execute())
          .length === 0,
      'delivered once the endpoint answers 200',
    );
  });

  it('removes an endpoint with its queue and log', async () => {
    const removed = await admin.post('/newsroom/webhooks/1/remove', {});
    assert.equal(removed.statusCode, 200);
    assert.match(removed.body, /Webhook 1 is removed/);
    assert.equal((await t.db.selectFrom('webhook_deliveries').select('id').execute()).length, 0);
    assert.equal((await admin.request({ method: 'GET', url: '/newsroom/webhooks/1' })).statusCode, 404);
  });
});
