import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HtmlValidate } from 'html-validate';
import { simpleParser } from 'mailparser';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { startBackgroundWork } from '../../worker.ts';
import { createMailTransport } from '../mail/mail.transport.ts';
import { demoArticles } from '../seed/demo.content.ts';
import { updateSiteSettings } from '../settings/settings.service.ts';
import { newsletterDeps } from './newsletters.cli.ts';
import { insertSubscribers } from './newsletters.fixtures.ts';
import { createIssue, queueIssue } from './newsletters.service.ts';
import { eventually } from '../../../test/helpers/eventually.ts';

const formType = { 'content-type': 'application/x-www-form-urlencoded' };

/** The header block of a raw message, folded lines unfolded. */
const headOf = (raw: Buffer) =>
  raw
    .toString('latin1')
    .split('\r\n\r\n')[0]!
    .replace(/\r\n[ \t]+/g, ' ');

describe('mail as receivers get it (a real SMTP server, parsed by mailparser)', () => {
  let smtp: TestSmtpServer;
  const sites: TestSite[] = [];

  before(async () => {
    smtp = await startTestSmtpServer({ keepRaw: true });
  });
  after(async () => {
    for (const site of sites) await site.close();
    await smtp.close();
  });

  it('newsletters: a keyed Message-ID recorded as sent, Precedence: bulk, and HTML in the publication language that validates, with an Outlook column, a preheader and sized images', async () => {
    const site = await createTestSite({
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Die Judäer <newsletter@gazette.test>' },
    });
    sites.push(site);
    await updateSiteSettings(site.db, { locale: 'de-CH' });
    // A body image as an author may write it, with its own (too large) size.
    const slug = demoArticles[0]!.slug;
    const article = await site.db
      .selectFrom('articles')
      .select('body_markdown')
      .where('slug', '=', slug)
      .executeTakeFirstOrThrow();
    await site.db
      .updateTable('articles')
      // Written past the editor: the stored rendering is cleared, so it is rendered again on first read.
      .set({
        body_markdown: `${article.body_markdown}\n\n<img src="/media/map.png" alt="The valley" width="1600" height="900">\n\n![The ridge](/media/ridge.png)\n`,
        body_html: null,
        body_text: null,
      })
      .where('slug', '=', slug)
      .execute();
    await insertSubscribers(site.db, 2, 'confirmed', 'bulk');
    const deps = await newsletterDeps(site.config, site.db);
    const issue = await createIssue(site.db, deps, { slugs: [slug] });
    assert.equal(await queueIssue(site.db, deps, issue.id), 2);
    const transport = await createMailTransport(site.config);
    const work = await startBackgroundWork(site.config, {
      db: site.db,
      transport,
      log: () => {},
      contentChanged: site.contentChanged,
    });
    try {
      await eventually(
        () => smtp.messages.filter((m) => m.to.startsWith('bulk')).length === 2,
        'two newsletters',
        20_000,
      );
    } finally {
      await work.stop();
      transport.close();
    }

    const recorded = await site.db
      .selectFrom('deliveries')
      .select(['email', 'message_id', 'status'])
      .where('issue_id', '=', issue.id)
      .execute();
    // Layout tables keep width, cellpadding, cellspacing and align: Outlook's Word renderer reads those, not CSS.
    const validator = new HtmlValidate({
      extends: ['html-validate:standard', 'html-validate:document'],
      rules: { 'no-deprecated-attr': 'off' },
    });
    const ids = new Set<string>();
    for (const { to, raw } of smtp.messages.filter((m) => m.to.startsWith('bulk'))) {
      const mail = await simpleParser(raw);
      const head = headOf(raw);
      assert.match(
        mail.messageId ?? '',
        new RegExp(`^<gazette\\.${issue.id}\\.\\d+\\.[A-Za-z0-9_-]{16}@gazette\\.test>$`),
      );
      ids.add(mail.messageId!);
      assert.equal(
        recorded.find((r) => r.email === to)?.message_id,
        mail.messageId,
        'the Message-ID on record is the one sent',
      );
      assert.equal(mail.headers.get('precedence'), 'bulk');
      assert.doesNotMatch(head, /^Auto-Submitted:/im);
      assert.equal(mail.from?.value[0]?.address, 'newsletter@gazette.test');

      const html = mail.html || '';
      assert.match(html, /^<!DOCTYPE html>\s*<html lang="de-CH">/);
      assert.match(
        html,
        /<meta name="color-scheme" content="light"><meta name="supported-color-schemes" content="light">/,
      );
      assert.match(
        html,
        /<!--\[if mso\]><table role="presentation" width="600" align="center"[^>]*><tr><td><!\[endif\]-->/,
      );
      assert.match(html, /<!--\[if mso\]><\/td><\/tr><\/table><!\[endif\]-->/);
      assert.match(
        html,
        /<body[^>]*>\s*<div style="display:none;[^"]*mso-hide:all">[^<]+/,
        'a hidden preheader first in the body',
      );
      const images = html.match(/<img\b[^>]*>/g) ?? [];
      assert.ok(images.length >= 2, images.join('\n'));
      for (const image of images) {
        assert.match(image, /\swidth="560"/, image);
        assert.doesNotMatch(image, /\sheight="|width="1600"/, image);
      }
      const report = await validator.validateString(html);
      const errors = report.results.flatMap((r) =>
        r.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId} (line ${m.line}): ${m.message}`),
      );
      assert.deepEqual(errors, []);
    }
    assert.equal(ids.size, 2);
  });

  it('sign-up mails: Auto-Submitted, a From that is a valid address without MAIL_FROM, and Message-IDs that two fresh installations never share', async () => {
    const messageIds: string[] = [];
    for (const install of [1, 2]) {
      // A fresh installation on an IP address with no MAIL_FROM, as a first try-out runs.
      const site = await createTestSite({ env: { SMTP_URL: smtp.url, SITE_URL: 'http://127.0.0.1:3000' } });
      sites.push(site);
      const email = `fresh${install}@example.test`;
      const res = await site.app.inject({
        method: 'POST',
        url: '/newsletter/subscribe',
        headers: formType,
        payload: `email=${encodeURIComponent(email)}&consent=yes&source=%2F`,
        remoteAddress: '198.51.100.7',
      });
      assert.equal(res.statusCode, 200);
      await eventually(() => smtp.messages.some((m) => m.to === email), `the confirmation to ${email}`, 20_000);
      const raw = smtp.messages.find((m) => m.to === email)!.raw;
      const mail = await simpleParser(raw);
      assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
      assert.doesNotMatch(headOf(raw), /^(Precedence|List-Unsubscribe):/im);
      assert.equal(mail.from?.value[0]?.address, 'newsletter@localhost.localdomain');
      assert.match(mail.messageId ?? '', /^<signup\.1\.[A-Za-z0-9_-]{16}@127\.0\.0\.1>$/);
      const recorded = async () =>
        (
          await site.db
            .selectFrom('subscriber_mails')
            .select('message_id')
            .where('status', '=', 'sent')
            .executeTakeFirst()
        )?.message_id;
      await eventually(async () => (await recorded()) !== undefined, 'the sent record', 20_000);
      assert.equal(await recorded(), mail.messageId, 'the Message-ID on record is the one sent');
      messageIds.push(mail.messageId!);
    }
    assert.notEqual(messageIds[0], messageIds[1], 'the first mail of each installation has its own Message-ID');
  });
});
