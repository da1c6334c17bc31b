/**
 * The newsroom's defences in a real browser (Debian's Chromium through playwright-core): what a journalist
 * would notice when something is wrong — a guessed password locks the account for a while even for the
 * right password, and a state-changing request that does not come from one of our forms is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  describeFindings,
  launchBrowser,
  newContext,
  runAxe,
  signInThroughBrowser,
  submitSignInForm,
} from './helpers/browser.ts';
import { signInAs, testPassword } from './helpers/newsroom.ts';
import { createTestSite, type TestSite } from './helpers/site.ts';
import { UserService } from '../src/modules/users/users.service.ts';
import { generateSubscribers } from '../bench/generate.ts';

describe('newsroom defences in Chromium', () => {
  let site: TestSite;
  let base: string;
  let browser: Browser;

  before(async () => {
    site = await createTestSite();
    base = await site.listen();
    browser = await launchBrowser();
    const users = new UserService({ db: site.db, siteUrl: site.config.siteUrl, now: () => new Date() });
    await users.createUser({
      email: 'guarded@example.com',
      role: 'editor',
      name: 'Gil Guarded',
      password: testPassword,
    });
    await users.createUser({ email: 'editor@example.com', role: 'editor', name: 'Eda Editor', password: testPassword });
  });

  after(async () => {
    await browser?.close();
    await site?.close();
  });

  it('throttles sign-in: after five wrong passwords even the right one is refused, with a message', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      for (let attempt = 1; attempt <= 5; attempt++) {
        await submitSignInForm(page, base, 'guarded@example.com', `a wrong guess, number ${attempt}`);
        assert.match(
          await page.getByRole('alert').innerText(),
          /not right|incorrect|wrong/i,
          `attempt ${attempt} is told the password is wrong`,
        );
      }
      await submitSignInForm(page, base, 'guarded@example.com', testPassword);
      assert.equal(
        new URL(page.url()).pathname,
        '/newsroom/sign-in',
        'the right password does not get in while throttled',
      );
      assert.match(await page.getByRole('alert').innerText(), /too many|try again/i);
    } finally {
      await context.close();
    }
  });

  it('refuses a POST without a CSRF token, and the session it targeted stays intact', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await signInThroughBrowser(page, base, 'editor@example.com');
      assert.equal(new URL(page.url()).pathname, '/newsroom');
      // What a forged request could send: the session cookie rides along (same origin), but no token.
      const forged = await page.evaluate(async () => {
        const response = await fetch('/newsroom/sign-out-everywhere', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: 'confirm=yes',
        });
        return { status: response.status, body: await response.text() };
      });
      assert.equal(forged.status, 403);
      assert.match(forged.body, /auth\.csrf/);
      // A token from somewhere else (another session's) is refused too.
      const wrongToken = await page.evaluate(async () => {
        const response = await fetch('/newsroom/sign-out-everywhere', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: '_csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        });
        return response.status;
      });
      assert.equal(wrongToken, 403);
      const response = await page.goto(`${base}/newsroom`);
      assert.equal(response?.status(), 200);
      assert.equal(new URL(page.url()).pathname, '/newsroom', 'still signed in after the refused requests');
    } finally {
      await context.close();
    }
  });

  it('has no serious or critical axe-core findings on the newsroom pages other tests do not visit, phone and desktop', async () => {
    // Content for those pages: an article with two revisions, a subscriber, an image.
    const admin = await signInAs(site, 'admin', 'axe-admin@example.com');
    const created = await admin.post('/newsroom/articles', {
      title: 'Revisions for the audit',
      body: 'First words.',
      action: 'save',
    });
    const id = Number(/\/newsroom\/articles\/(\d+)/.exec(String(created.headers.location))?.[1]);
    const row = await site.db.selectFrom('articles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    await admin.post(`/newsroom/articles/${id}`, {
      title: row.title,
      slug: row.slug,
      standfirst: '',
      body: 'Second words.',
      revision: String(row.revision),
      action: 'save',
    });
    const revisions = await site.db
      .selectFrom('article_revisions')
      .select('id')
      .where('article_id', '=', id)
      .orderBy('id')
      .execute();
    assert.equal(revisions.length, 2);
    await generateSubscribers(site.db, 1);
    const subscriber = await site.db.selectFrom('subscribers').select('id').executeTakeFirstOrThrow();
    const image = await site.db.selectFrom('media').select('id').where('kind', '=', 'image').executeTakeFirstOrThrow();
    const hook = await admin.post('/newsroom/webhooks', {
      url: 'http://127.0.0.1:9/hook',
      events: ['post.published', 'page.*'],
      allow_private: '1',
    });
    assert.equal(hook.statusCode, 200);
    const pages = [
      '/newsroom/webhooks',
      '/newsroom/webhooks/1',
      `/newsroom/articles/${id}/revisions`,
      `/newsroom/articles/${id}/revisions/diff?from=${revisions[0]?.id}&to=${revisions[1]?.id}`,
      `/newsroom/media/${image.id}`,
      '/newsroom/legal',
      `/newsroom/subscribers/${subscriber.id}`,
    ];
    for (const viewport of ['phone', 'desktop'] as const) {
      const context = await newContext(browser, { viewport, withAxe: true });
      try {
        const page = await context.newPage();
        await page.goto(`${base}/newsroom/sign-in`);
        const findings: string[] = [];
        const check = async (where: string) => {
          const serious = (await runAxe(page)).filter((f) => f.impact === 'serious' || f.impact === 'critical');
          if (serious.length > 0) findings.push(`${where} (${viewport}):\n${describeFindings(serious)}`);
          const wide = await page.evaluate(() => (document.scrollingElement?.scrollWidth ?? 0) - window.innerWidth);
          if (wide > 0) findings.push(`${where} (${viewport}) scrolls sideways by ${wide}px`);
        };
        await check('/newsroom/sign-in');
        await signInThroughBrowser(page, base, 'axe-admin@example.com');
        for (const pagePath of pages) {
          const response = await page.goto(base + pagePath);
          assert.equal(response?.status(), 200, pagePath);
          await check(pagePath);
        }
        assert.deepEqual(findings, []);
      } finally {
        await context.close();
      }
    }
  });
});
