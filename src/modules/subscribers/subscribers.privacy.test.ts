import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { buildApp } from '../../app.ts';
import { startBackgroundWork } from '../../worker.ts';
import { createMailTransport } from '../mail/mail.transport.ts';
import { newsletterDeps } from '../newsletters/newsletters.cli.ts';
import { insertSubscribers } from '../newsletters/newsletters.fixtures.ts';
import { createIssue, queueIssue } from '../newsletters/newsletters.service.ts';
import { demoArticles } from '../seed/demo.content.ts';
import { getOrCreateSecretKey } from '../settings/secret.ts';
import { createLegacyRecipientToken, createSubscriberToken } from './subscribers.tokens.ts';
import { eventually } from '../../../test/helpers/eventually.ts';

const formType = { 'content-type': 'application/x-www-form-urlencoded' };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe("subscribers' tokens and hashes (HTTP + a real SMTP server)", () => {
  let smtp: TestSmtpServer;
  let site: TestSite;

  before(async () => {
    smtp = await startTestSmtpServer({ keepRaw: true });
    site = await createTestSite({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'The Judean <newsletter@gazette.test>' } });
  });
  after(async () => {
    await site.close();
    await smtp.close();
  });

  const subscriberId = async (email: string) =>
    (await site.db.selectFrom('subscribers').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id;
  const statusOf = async (email: string) =>
    (await site.db.selectFrom('subscribers').select('status').where('email', '=', email).executeTakeFirst())?.status;

  it('List-Unsubscribe carries a token that only unsubscribes; the manage link in the body opens the data; older mails still unsubscribe', async () => {
    await insertSubscribers(site.db, 3, 'confirmed', 'private');
    const deps = await newsletterDeps(site.config, site.db);
    const issue = await createIssue(site.db, deps, { slugs: [demoArticles[0]!.slug] });
    assert.equal(await queueIssue(site.db, deps, issue.id), 3);
    const transport = await createMailTransport(site.config);
    const work = await startBackgroundWork(site.config, {
      db: site.db,
      transport,
      log: () => {},
      contentChanged: site.contentChanged,
    });
    try {
      await eventually(
        () => Promise.resolve(smtp.messages.filter((m) => m.to.startsWith('private')).length === 3),
        'three newsletters',
        20_000,
      );
    } finally {
      await work.stop();
      transport.close();
    }

    const raw = smtp.messages.find((m) => m.to === 'private0@example.test')!.raw;
    const mail = await simpleParser(raw);
    const head = raw
      .toString('latin1')
      .split('\r\n\r\n')[0]!
      .replace(/\r\n[ \t]+/g, ' ');
    const listUnsubscribe = /^List-Unsubscribe: (.*)$/im.exec(head)?.[1] ?? '';
    const headerToken = /<http:\/\/gazette\.test\/newsletter\/unsubscribe\?token=([^>]+)>/.exec(listUnsubscribe)?.[1];
    assert.ok(headerToken, listUnsubscribe);
    assert.match(
      listUnsubscribe,
      new RegExp(`subject=unsubscribe%20${headerToken}>`),
      'the mailto carries the same unsubscribe token',
    );
    const manageToken = /href="http:\/\/gazette\.test\/newsletter\/me\?token=([^"]+)"/.exec(mail.html || '')?.[1];
    assert.ok(manageToken, 'a manage link in the HTML body');
    assert.notEqual(manageToken, headerToken);
    assert.ok(!head.includes(manageToken), 'the manage token is nowhere in the headers');
    assert.ok(mail.text?.includes(`/newsletter/me?token=${manageToken}`), 'and is in the text part');

    // What every relay sees opens nothing but the unsubscribe button.
    for (const url of [`/newsletter/me?token=${headerToken}`, `/newsletter/me/data?token=${headerToken}`]) {
      const res = await site.app.inject({ url });
      assert.equal(res.statusCode, 403, url);
      assert.doesNotMatch(res.body, /private0@example\.test/);
      assert.match(res.body, /can only unsubscribe/);
    }
    assert.equal(
      (await site.app.inject({ method: 'POST', url: `/newsletter/me/delete?token=${headerToken}` })).statusCode,
      403,
    );
    assert.equal(await statusOf('private0@example.test'), 'confirmed', 'nothing erased');

    // The body's link is the reader's own door.
    const me = await site.app.inject({ url: `/newsletter/me?token=${manageToken}` });
    assert.equal(me.statusCode, 200);
    assert.match(me.body, /private0@example\.test/);
    const data = await site.app.inject({ url: `/newsletter/me/data?token=${manageToken}` });
    assert.equal(data.json<{ subscriber: { email: string } }>().subscriber.email, 'private0@example.test');

    // The header token unsubscribes, by RFC 8058 one-click.
    const oneClick = await site.app.inject({
      method: 'POST',
      url: `/newsletter/unsubscribe?token=${headerToken}`,
      headers: formType,
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(oneClick.statusCode, 200);
    assert.equal(await statusOf('private0@example.test'), 'unsubscribed');

    // A mail sent before the split carried one token, in headers and body: it still unsubscribes, and no more.
    const legacy = createLegacyRecipientToken(
      await getOrCreateSecretKey(site.db, null),
      await subscriberId('private1@example.test'),
    );
    assert.equal((await site.app.inject({ url: `/newsletter/me?token=${legacy}` })).statusCode, 403);
    assert.equal((await site.app.inject({ url: `/newsletter/me/data?token=${legacy}` })).statusCode, 403);
    assert.equal(
      (await site.app.inject({ method: 'POST', url: `/newsletter/me/delete?token=${legacy}` })).statusCode,
      403,
    );
    assert.equal((await site.app.inject({ url: `/newsletter/unsubscribe?token=${legacy}` })).statusCode, 200);
    assert.equal(
      (
        await site.app.inject({
          method: 'POST',
          url: `/newsletter/unsubscribe?token=${legacy}`,
          headers: formType,
          payload: 'List-Unsubscribe=One-Click',
        })
      ).statusCode,
      200,
    );
    assert.equal(await statusOf('private1@example.test'), 'unsubscribed');
  });

  it('keeps an erased address as a hash keyed with the secret, and keys the bare hashes an older version left at start-up', async () => {
    await insertSubscribers(site.db, 1, 'confirmed', 'erase');
    const deps = await newsletterDeps(site.config, site.db);
    const id = await subscriberId('erase0@example.test');
    const secret = await getOrCreateSecretKey(site.db, null);
    // The manage link as the body of a mail carries it.
    const erased = await site.app.inject({
      method: 'POST',
      url: `/newsletter/me/delete?token=${createSubscriberToken(secret, 'manage', id)}`,
    });
    assert.equal(erased.statusCode, 200);
    const dump =
      JSON.stringify(await site.db.selectFrom('suppressions').selectAll().execute()) +
      JSON.stringify(await site.db.selectFrom('consent_events').selectAll().execute());
    assert.ok(
      !dump.includes(sha256('erase0@example.test')),
      'no bare SHA-256 of the address, which a list of addresses would reverse',
    );
    assert.equal(deps.emailHash('erase0@example.test').startsWith('k1:'), true);
    assert.ok(dump.includes(deps.emailHash('erase0@example.test')));

    // An older version's rows: a bare SHA-256 suppression. A restart (a new app on the same database) keys it,
    // and the address stays suppressed: a sign-up from the form sends nothing and stores nothing.
    await site.db
      .insertInto('suppressions')
      .values({
        email_hash: sha256('old-erasure@example.test'),
        reason: 'erased',
        created_at: new Date().toISOString(),
      })
      .execute();
    await site.db
      .insertInto('consent_events')
      .values({
        subscriber_id: null,
        email_hash: sha256('old-erasure@example.test'),
        kind: 'erased',
        created_at: new Date().toISOString(),
      })
      .execute();
    const restarted = await buildApp({ config: site.config, db: site.db });
    try {
      const rows =
        JSON.stringify(await site.db.selectFrom('suppressions').selectAll().execute()) +
        JSON.stringify(await site.db.selectFrom('consent_events').selectAll().execute());
      assert.ok(!rows.includes(sha256('old-erasure@example.test')), 'the bare hash is gone');
      assert.ok(rows.includes(deps.emailHash('old-erasure@example.test')), 'replaced by the keyed one');
      const before = smtp.total();
      const signup = await restarted.app.inject({
        method: 'POST',
        url: '/newsletter/subscribe',
        headers: formType,
        payload: 'email=old-erasure%40example.test&consent=yes&source=%2F',
        remoteAddress: '198.51.100.9',
      });
      assert.equal(signup.statusCode, 200);
      assert.match(signup.body, /Check your inbox/);
      assert.equal(await statusOf('old-erasure@example.test'), undefined, 'no row for a suppressed address');
      assert.equal(smtp.total(), before);
    } finally {
      await restarted.app.close();
    }
  });
});
