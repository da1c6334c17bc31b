import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { runGazette } from '../../../test/helpers/gazette-process.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { demoArticles } from '../seed/demo.content.ts';
import { seedDemoPublication } from '../seed/seed.service.ts';

const [lead, second] = demoArticles;

describe('the newsletter preview in the browser', () => {
  let site: TestSite;
  before(async () => {
    site = await createTestSite();
  });
  after(() => site.close());

  it('shows the issue as a reader gets it: the articles in order, the footer links, no scripts', async () => {
    const res = await site.app.inject({ url: `/newsletter/preview?articles=${lead!.slug},${second!.slug}` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-robots-tag'], 'noindex');
    assert.ok(res.body.indexOf(lead!.title) < res.body.indexOf(second!.title) && res.body.includes(second!.title));
    assert.match(res.body, /Unsubscribe/);
    assert.doesNotMatch(res.body, /<script/i);
    assert.match(String(res.headers['content-security-policy']), /style-src 'unsafe-inline'/);
  });

  it('refuses a bad list with 400, and an unknown or unpublished article with 404', async () => {
    assert.equal((await site.app.inject({ url: '/newsletter/preview' })).statusCode, 400);
    assert.equal((await site.app.inject({ url: '/newsletter/preview?articles=%3Cscript%3E' })).statusCode, 400);
    assert.equal((await site.app.inject({ url: '/newsletter/preview?articles=no-such-story' })).statusCode, 404);
    await site.db.updateTable('articles').set({ status: 'draft' }).where('slug', '=', second!.slug).execute();
    assert.equal((await site.app.inject({ url: `/newsletter/preview?articles=${second!.slug}` })).statusCode, 404);
  });
});

describe('gazette newsletter test-send', () => {
  let t: TestDatabase;
  let smtp: TestSmtpServer;
  before(async () => {
    t = await createTestDatabase('sqlite');
    await seedDemoPublication(t.db, { dataDir: t.dataDir });
    smtp = await startTestSmtpServer({ keepRaw: true });
  });
  after(async () => {
    await smtp.close();
    await t.drop();
  });

  it('sends one copy marked [Test] to the given address and queues nothing', async () => {
    const env = {
      DATA_DIR: t.dataDir,
      DATABASE_URL: t.url,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'The Judean <news@judean.test>',
      LOG_LEVEL: 'silent',
    };
    const { code, stdout, stderr } = await runGazette(
      ['newsletter', 'test-send', lead!.slug, '--to', 'editor@judean.test'],
      env,
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, /Sent a test copy to editor@judean\.test/);
    assert.equal(smtp.total(), 1);
    const mail = await simpleParser(smtp.messages[0]!.raw);
    assert.equal(mail.subject, `[Test] ${lead!.title}`);
    assert.match(mail.text ?? '', /Unsubscribe/i);
    const queued = await t.db.selectFrom('deliveries').select('id').execute();
    assert.equal(queued.length, 0);
  });

  it('refuses a missing or malformed address with a one-line usage error', async () => {
    const env = { DATA_DIR: t.dataDir, DATABASE_URL: t.url };
    for (const args of [
      ['newsletter', 'test-send', lead!.slug],
      ['newsletter', 'test-send', lead!.slug, '--to', 'a@b\r\nBcc: x@y'],
    ]) {
      const result = await runGazette(args, env);
      assert.equal(result.code, 2);
      assert.equal(result.stderr.trim().split('\n').length, 1);
    }
  });
});
