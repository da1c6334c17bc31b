import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../../test/helpers/eventually.ts';
import { runGazette } from '../../../test/helpers/gazette-process.ts';
import { type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { createSecretSealer, getOrCreateSecretKey } from '../settings/index.ts';
import { createWebhookDispatcher } from './webhooks.dispatcher.ts';
import { Receiver } from './webhooks.fixtures.ts';
import { isPublicAddress } from './webhooks.request.ts';

describe('webhook addresses (server-side request forgery)', () => {
  let site: TestSite;
  let admin: NewsroomClient;

  before(async () => {
    site = await createTestSite({ seed: false });
    admin = await signInAs(site, 'admin');
  });
  after(() => site.close());

  it('judges addresses: only global unicast is public, IPv4-mapped IPv6 as its IPv4', () => {
    const refused = [
      '127.0.0.1',
      '127.1.2.3',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      'fd12:3456::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '::ffff:169.254.169.254',
      'ff02::1',
      'not an address',
    ];
    for (const address of refused) assert.equal(isPublicAddress(address), false, address);
    for (const address of ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '::ffff:93.184.216.34'])
      assert.equal(isPublicAddress(address), true, address);
  });

  it('refuses to register a private address without "Allow private addresses", in the newsroom', async () => {
    for (const url of [
      'http://127.0.0.1:9/x',
      'http://[::1]:9/',
      'http://[::ffff:7f00:1]/',
      'http://10.1.2.3/',
      'http://169.254.169.254/latest/meta-data',
      'http://localhost:9/',
      'http://2130706433/',
    ]) {
      const response = await admin.post('/newsroom/webhooks', { url, events: 'post.published' });
      assert.equal(response.statusCode, 400, url);
      assert.match(response.body, /That address is private, loopback or link-local/, url);
    }
    const bad = await admin.post('/newsroom/webhooks', { url: 'ftp://example.test/', events: 'post.published' });
    assert.equal(bad.statusCode, 400);
    const unknown = await admin.post('/newsroom/webhooks', {
      url: 'https://hooks.example.test/',
      events: 'post.exploded',
    });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.body, /“post\.exploded” is not an event Gazette sends/);
    const editor = await signInAs(site, 'editor');
    assert.equal(
      (await editor.post('/newsroom/webhooks', { url: 'https://hooks.example.test/', events: 'post.published' }))
        .statusCode,
      403,
    );
    assert.equal((await site.db.selectFrom('webhook_endpoints').select('id').execute()).length, 0);
  });

  it('checks the address the name resolves to when it connects, so a name cannot lead to this machine', async (t) => {
    // This machine's own name: on these hosts it resolves to the loopback (/etc/hosts). Where it does not,
    // the case is skipped rather than sending anything anywhere but the loopback.
    const name = hostname();
    const addresses = await lookup(name, { all: true }).catch(() => []);
    if (addresses.length === 0 || !addresses.every((a) => a.address.startsWith('127.') || a.address === '::1'))
      return t.skip(`${name} does not resolve to the loopback alone`);
    const receiver = new Receiver();
    await receiver.start();
    receiver.secrets = ['whsec_dW51c2Vk'];
    const registered = await admin.post('/newsroom/webhooks', {
      url: `http://${name}:${receiver.port}/`,
      events: 'post.published',
    });
    assert.equal(registered.statusCode, 200, 'a name passes registration: only its resolved address can tell');
    const published = await admin.post('/newsroom/articles', { title: 'Quiet news', body: 'Text.', action: 'publish' });
    assert.equal(published.statusCode, 303);
    const dispatcher = createWebhookDispatcher({
      db: site.db,
      sealer: createSecretSealer(await getOrCreateSecretKey(site.db, site.config.secretKey)),
      siteUrl: site.config.siteUrl,
      log: () => {},
      options: { retryDelaysMs: [10], giveUpAfterMs: 60_000 },
    });
    const attempt = await eventually(async () => {
      await dispatcher.runOnce();
      return site.db.selectFrom('webhook_attempts').selectAll().executeTakeFirst();
    }, 'an attempt');
    await dispatcher.stop();
    await receiver.stop();
    assert.equal(attempt.status_code, null);
    assert.match(attempt.error ?? '', /is a private, loopback or link-local address \(127\./);
    assert.equal(receiver.received.length + receiver.rejected, 0, 'nothing reached the receiver');
    const page = await admin.request({ method: 'GET', url: '/newsroom/webhooks/1' });
    assert.match(page.body, /private, loopback or link-local address/);
  });
});

describe('gazette webhook', () => {
  let site: TestSite;
  before(async () => {
    site = await createTestSite({ seed: false });
  });
  after(() => site.close());
  const env = () => ({ DATA_DIR: site.config.dataDir, SITE_URL: 'http://gazette.test', SEED_DEMO: 'false' });

  it('adds (printing the secret), lists, rotates and removes endpoints; refuses a private address without --allow-private', async () => {
    const refused = await runGazette(
      ['webhook', 'add', 'http://127.0.0.1:9/hook', '--events', 'post.published'],
      env(),
    );
    assert.equal(refused.code, 2, refused.output);
    assert.match(refused.stderr, /private, loopback or link-local/);

    const added = await runGazette(
      ['webhook', 'add', 'http://127.0.0.1:9/hook', '--events', 'post.published,page.*', '--allow-private'],
      env(),
    );
    assert.equal(added.code, 0, added.output);
    const secret = /^(whsec_\S+)$/m.exec(added.stdout)?.[1];
    assert.ok(secret, added.stdout);
    const stored = await site.db.selectFrom('webhook_endpoints').selectAll().executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(stored).includes(secret.slice(6)), 'the secret is not stored in the clear');

    const listed = await runGazette(['webhook', 'list'], env());
    assert.match(
      listed.stdout,
      /^1\thttp:\/\/127\.0\.0\.1:9\/hook\tpage\.\*,post\.published\tprivate addresses allowed\t0 delivered/m,
    );
    const rotated = await runGazette(['webhook', 'rotate', '1'], env());
    assert.equal(rotated.code, 0);
    const fresh = /^(whsec_\S+)$/m.exec(rotated.stdout)?.[1];
    assert.ok(fresh && fresh !== secret);
    assert.match(rotated.stdout, /previous secret also signs deliveries until/);
    assert.equal((await runGazette(['webhook', 'remove', '1'], env())).code, 0);
    const gone = await runGazette(['webhook', 'remove', '1'], env());
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /no webhook endpoint with that number/);
  });
});
