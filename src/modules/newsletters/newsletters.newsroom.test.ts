import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HtmlValidate } from 'html-validate';
import { simpleParser } from 'mailparser';
import { type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { startBackgroundWork } from '../../worker.ts';
import { createMailTransport } from '../mail/mail.transport.ts';
import { demoArticles } from '../seed/demo.content.ts';
import { insertSubscribers } from './newsletters.fixtures.ts';
import { eventually } from '../../../test/helpers/eventually.ts';

describe('the newsroom newsletter screens, through a real SMTP server', () => {
  let smtp: TestSmtpServer;
  let site: TestSite;
  let editor: NewsroomClient;
  let contributor: NewsroomClient;
  let articleIds: number[];

  before(async () => {
    smtp = await startTestSmtpServer({ keepRaw: true });
    site = await createTestSite({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'The Judean <newsletter@gazette.test>' } });
    editor = await signInAs(site, 'editor');
    contributor = await signInAs(site, 'contributor');
    articleIds = await Promise.all(
      demoArticles
        .slice(0, 3)
        .map(
          async (a) =>
            (await site.db.selectFrom('articles').select('id').where('slug', '=', a.slug).executeTakeFirstOrThrow()).id,
        ),
    );
    await insertSubscribers(site.db, 5, 'confirmed');
    await insertSubscribers(site.db, 2, 'pending', 'waiting');
  });
  after(async () => {
    await site.close();
    await smtp.close();
  });

  const compose = (form: Record<string, string | string[]>) => editor.post('/newsroom/newsletters', form);

  it('composes an issue from picked articles in the chosen order, previews it, test-sends it, sends it, and shows the live progress reach 100%', async () => {
    const [first, second, third] = articleIds as [number, number, number];
    const form = await editor.request({ method: 'GET', url: '/newsroom/newsletters/new' });
    assert.equal(form.statusCode, 200);
    assert.match(form.body, new RegExp(`name="articles" value="${first}"`));

    // Third article first, by its position; the other picked one after it.
    const created = await compose({
      subject: 'The week in review',
      articles: [String(first), String(third)],
      [`position_${third}`]: '1',
      [`position_${first}`]: '2',
    });
    assert.equal(created.statusCode, 303, created.body);
    const issueUrl = String(created.headers.location);
    assert.match(issueUrl, /^\/newsroom\/newsletters\/\d+$/);
    void second;

    const page = await editor.request({ method: 'GET', url: issueUrl });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>The week in review<\/h1>/);
    assert.match(page.body, new RegExp(`<iframe class="mail-preview" src="${issueUrl}/preview" sandbox`));

    const preview = await editor.request({ method: 'GET', url: `${issueUrl}/preview` });
    assert.equal(preview.statusCode, 200);
    assert.match(String(preview.headers['content-security-policy']), /frame-ancestors 'self'/);
    assert.equal(preview.headers['x-frame-options'], 'SAMEORIGIN');
    const titles = [demoArticles[2]!.title, demoArticles[0]!.title].map((t) =>
      preview.body.indexOf(t.replaceAll('’', '&#8217;')) >= 0
        ? preview.body.indexOf(t.replaceAll('’', '&#8217;'))
        : preview.body.indexOf(t),
    );
    assert.ok(titles[0]! >= 0 && titles[1]! > titles[0]!, `the third article comes first: ${titles.join(', ')}`);
    assert.doesNotMatch(preview.body, /<script/i);

    // A test copy reaches the SMTP server.
    const test = await editor.post(`${issueUrl}/test`, { to: 'desk@example.org' });
    assert.equal(test.statusCode, 200);
    assert.match(test.body, /A test copy was sent to desk@example\.org\./);
    assert.equal(smtp.accepted.get('desk@example.org'), 1);
    const mail = await simpleParser(smtp.messages.find((m) => m.to === 'desk@example.org')!.raw);
    assert.equal(mail.subject, '[Test] The week in review');
    assert.equal(
      await site.db.selectFrom('deliveries').select('id').executeTakeFirst(),
      undefined,
      'a test queues nothing',
    );

    // The confirmation step shows the recipient count; sending queues the issue.
    const confirm = await editor.request({ method: 'GET', url: `${issueUrl}/send` });
    assert.match(confirm.body, /<strong data-recipients>5<\/strong> confirmed subscribers/);
    const sent = await editor.post(`${issueUrl}/send`, {});
    assert.equal(sent.statusCode, 303);
    assert.equal(sent.headers.location, issueUrl);
    const queued = (await editor.request({ method: 'GET', url: `${issueUrl}/progress.json` })).json<{
      status: string;
      pending: number;
      percent: number;
    }>();
    assert.deepEqual([queued.status, queued.pending, queued.percent], ['sending', 5, 0]);
    assert.equal((await editor.post(`${issueUrl}/send`, {})).statusCode, 409, 'an issue is sent once');

    // A delivery worker, as `gazette worker` runs it, delivers; the progress JSON reaches done.
    const transport = await createMailTransport(site.config);
    const work = await startBackgroundWork(site.config, {
      db: site.db,
      transport,
      log: () => {},
      contentChanged: site.contentChanged,
    });
    let progress: { status: string; percent: number; sent: number; failed: number; pending: number };
    try {
      progress = await eventually(
        async () => {
          const now = (
            await editor.request({
              method: 'GET',
              url: `${issueUrl}/progress.json`,
              headers: { accept: 'application/json' },
            })
          ).json<typeof progress>();
          return now.status === 'sent' && now;
        },
        'the issue to be sent',
        20_000,
        50,
      );
    } finally {
      await work.stop();
      transport.close();
    }
    assert.deepEqual(
      {
        status: progress.status,
        percent: progress.percent,
        sent: progress.sent,
        failed: progress.failed,
        pending: progress.pending,
      },
      { status: 'sent', percent: 100, sent: 5, failed: 0, pending: 0 },
    );
    for (let i = 0; i < 5; i++) assert.equal(smtp.accepted.get(`reader${i}@example.test`), 1);
    assert.equal(smtp.accepted.has('waiting0@example.test'), false);

    // The issue page shows the finished progress and the chart of messages sent, with its table.
    const done = await editor.request({ method: 'GET', url: issueUrl });
    assert.match(done.body, /<progress id="issue-progress" max="100" value="100">/);
    assert.match(
      done.body,
      /<svg class="chart__svg"[^>]*role="img" aria-labelledby="sent-chart-title sent-chart-desc"/,
    );
    assert.match(done.body, /<desc id="sent-chart-desc">5 messages accepted by the mail server/);
    assert.match(done.body, /<details class="chart__data"><summary>The numbers<\/summary>/);
    const list = await editor.request({ method: 'GET', url: '/newsroom/newsletters' });
    assert.match(
      list.body,
      /The week in review<\/a><\/td><td><span class="status status--sent">sent<\/span><\/td><td>[\d-]+<\/td><td>5<\/td><td>5<\/td><td>0<\/td><td>0<\/td>/,
    );
    assert.match(list.body, /Confirmed subscribers per day, last 30 days/);
    const dashboard = await editor.request({ method: 'GET', url: '/newsroom' });
    assert.match(dashboard.body, /<dd data-count="confirmed">5<\/dd>/);
    assert.match(dashboard.body, /The week in review<\/a><\/p>\s*<p>sent · 5 of 5 sent<\/p>/);
  });

  it('says plainly when a test copy cannot be sent', async () => {
    const created = await compose({ subject: 'Refused test', articles: String(articleIds[0]) });
    const issueUrl = String(created.headers.location);
    smtp.faults.permanent.add('nobody@example.org');
    try {
      const refused = await editor.post(`${issueUrl}/test`, { to: 'nobody@example.org' });
      assert.equal(refused.statusCode, 502);
      assert.match(refused.body, /role="alert" id="test-error">The test copy could not be sent: .*550/);
    } finally {
      smtp.faults.permanent.clear();
    }
    const bad = await editor.post(`${issueUrl}/test`, { to: 'not an address\r\nBcc: x@example.org' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /valid address for the test copy/);
  });

  it('refuses bad compose input with a message: empty subject, no articles, unknown or unpublished articles', async () => {
    const cases: [Record<string, string | string[]>, number, RegExp][] = [
      [{ subject: '   ', articles: String(articleIds[0]) }, 400, /Please give the issue a subject/],
      [{ subject: 'Nothing in it' }, 400, /pick at least one published article/],
      [{ subject: 'Ghosts', articles: ['999999'] }, 400, /not published \(or does not exist\)/],
      [{ subject: 'Words', articles: ['one'] }, 400, /not published \(or does not exist\)/],
      [{ subject: 'x'.repeat(201), articles: String(articleIds[0]) }, 400, /at most 200 characters/],
      [
        { subject: 'Too many', articles: Array.from({ length: 11 }, (_, i) => String(i + 1)) },
        400,
        /at most ten articles/,
      ],
    ];
    const before = await site.db.selectFrom('newsletter_issues').select('id').execute();
    for (const [form, status, message] of cases) {
      const response = await compose(form);
      assert.equal(response.statusCode, status, JSON.stringify(form));
      assert.match(response.body, message);
    }
    // An unpublished article cannot be slipped in by id either.
    await site.db.updateTable('articles').set({ status: 'draft' }).where('id', '=', articleIds[1]!).execute();
    assert.equal((await compose({ subject: 'Draft', articles: String(articleIds[1]) })).statusCode, 400);
    assert.equal((await site.db.selectFrom('newsletter_issues').select('id').execute()).length, before.length);
    assert.equal((await editor.request({ method: 'GET', url: '/newsroom/newsletters/99999' })).statusCode, 404);
    assert.equal(
      (await editor.request({ method: 'GET', url: '/newsroom/newsletters/abc/progress.json' })).statusCode,
      404,
    );
  });

  it('is for editors and up: a contributor gets 403 on GET and POST; a POST without CSRF is refused', async () => {
    for (const url of [
      '/newsroom/newsletters',
      '/newsroom/newsletters/new',
      '/newsroom/newsletters/1',
      '/newsroom/newsletters/1/preview',
      '/newsroom/newsletters/1/progress.json',
      '/newsroom/newsletters/1/send',
    ]) {
      assert.equal((await contributor.request({ method: 'GET', url })).statusCode, 403, url);
    }
    assert.equal(
      (await contributor.post('/newsroom/newsletters', { subject: 'Mine', articles: String(articleIds[0]) }))
        .statusCode,
      403,
    );
    assert.equal((await contributor.post('/newsroom/newsletters/1/send', {})).statusCode, 403);
    assert.equal((await contributor.post('/newsroom/newsletters/1/test', { to: 'a@example.org' })).statusCode, 403);
    const noCsrf = await editor.request({
      method: 'POST',
      url: '/newsroom/newsletters',
      form: { subject: 'x', articles: String(articleIds[0]) },
    });
    assert.equal(noCsrf.statusCode, 403);
  });

  it('renders valid, accessible HTML on every newsletter, subscriber and legal screen', async () => {
    const validator = new HtmlValidate({
      extends: ['html-validate:standard', 'html-validate:a11y', 'html-validate:document'],
      rules: { 'no-inline-style': 'error' },
    });
    const admin = await signInAs(site, 'admin');
    const draft = String(
      (await compose({ subject: 'Valid <HTML>', articles: String(articleIds[0]) })).headers.location,
    );
    const sent = (
      await site.db.selectFrom('newsletter_issues').select('id').where('status', '=', 'sent').executeTakeFirstOrThrow()
    ).id;
    const subscriber = (await site.db.selectFrom('subscribers').select('id').executeTakeFirstOrThrow()).id;
    const pages: [NewsroomClient, string][] = [
      [editor, '/newsroom'],
      [editor, '/newsroom/newsletters'],
      [editor, '/newsroom/newsletters/new'],
      [editor, draft],
      [editor, `${draft}/send`],
      [editor, `/newsroom/newsletters/${sent}`],
      [editor, '/newsroom/subscribers'],
      [editor, '/newsroom/subscribers?q=reader&status=confirmed'],
      [editor, `/newsroom/subscribers/${subscriber}`],
      [admin, '/newsroom/legal'],
      [admin, '/newsroom/users'],
    ];
    for (const [client, url] of pages) {
      const response = await client.request({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      const report = await validator.validateString(response.body);
      const errors = report.results.flatMap((r) =>
        r.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId} (line ${m.line}): ${m.message}`),
      );
      assert.deepEqual(errors, [], url);
    }
  });
});
