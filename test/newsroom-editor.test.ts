/**
 * The article editor in Chromium: an editor signs in, writes an article in the rich editor with the live preview, autosave
 * creates and saves the draft, and the article is published with the keyboard alone; it is then on the
 * site. The editor and list pages pass axe-core, fit a phone, and are screenshotted for a human to look at.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { UserService } from '../src/modules/users/users.service.ts';
import { ensureEditorBundle } from '../src/ui/editor-bundle.ts';
import {
  describeFindings,
  launchBrowser,
  newContext,
  runAxe,
  signInThroughBrowser,
  type ViewportName,
} from './helpers/browser.ts';
import { testPassword } from './helpers/newsroom.ts';
import { createTestSite, type TestSite } from './helpers/site.ts';

const screenshotDir = path.join(import.meta.dirname, '..', 'test-output', 'screenshots');
const email = 'desk@example.com';

async function signIn(context: BrowserContext, base: string): Promise<Page> {
  const page = await context.newPage();
  await signInThroughBrowser(page, base, email);
  return page;
}

async function seriousFindings(page: Page): Promise<string> {
  return describeFindings((await runAxe(page)).filter((f) => f.impact === 'serious' || f.impact === 'critical'));
}

describe('the article editor in Chromium', () => {
  let site: TestSite;
  let base: string;
  let browser: Browser;

  before(async () => {
    await ensureEditorBundle(); // `npm install` built it; a changed source is rebuilt here, as `npm start` does
    site = await createTestSite();
    base = await site.listen();
    await new UserService({ db: site.db, siteUrl: site.config.siteUrl, now: () => new Date() }).createUser({
      email,
      role: 'editor',
      name: 'Dana Desk',
      password: testPassword,
    });
    browser = await launchBrowser();
    await mkdir(screenshotDir, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  it('writes with a live preview and autosave, then publishes by keyboard; the article is on the site', async () => {
    const context = await newContext(browser, { withAxe: true });
    try {
      const page = await signIn(context, base);
      await page.goto(`${base}/newsroom/articles`);
      assert.equal(await seriousFindings(page), '', 'article list: no serious or critical axe findings');
      await Promise.all([page.waitForURL(`${base}/newsroom/articles/new`), page.click('text=New article')]);

      await page.fill('#title', 'Night buses return to the harbour line');
      assert.equal(
        await page.textContent('[data-slug-preview]'),
        'night-buses-return-to-the-harbour-line',
        'the address follows the title',
      );
      await page.fill('#standfirst', 'After a year without them, late workers have a way home again.');
      // The body is the rich editor (Markdown shortcuts as one types); the preview opens below it.
      const body = page.getByRole('textbox', { name: 'Article body' });
      await body.click();
      await page.keyboard.type(
        '## What changes\nBuses run **every 20 minutes** after midnight.\n<script>window.hacked = true</script>',
      );
      await page.getByText('Preview as readers will see it').click();
      // The live preview: rendered and sanitised by the server, without a page load.
      await page.waitForSelector('[data-preview] strong:text("every 20 minutes")', { timeout: 10_000 });
      assert.equal(await page.locator('[data-preview] h2').textContent(), 'What changes');
      assert.equal(await page.locator('[data-preview] script').count(), 0);
      assert.equal(await page.evaluate(() => 'hacked' in window), false);

      // A feature image from the media library: its thumbnail shows at once.
      await page.selectOption('#feature_image_id', { index: 1 });
      await page.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('#feature_image_id + img.editor-thumb');
        return img !== null && img.complete && img.naturalWidth > 0;
      });
      const imageId = Number(await page.inputValue('#feature_image_id'));
      await page.check('text=Culture');

      // Autosave: a few seconds after the typing stops, the draft exists and this page edits it.
      await page.waitForSelector('#autosave-status:text-matches("^Saved \\\\d")', { timeout: 15_000 });
      assert.match(page.url(), /\/newsroom\/articles\/\d+$/);
      const id = Number(/(\d+)$/.exec(page.url())?.[1]);
      const draft = await site.db.selectFrom('articles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(draft.status, 'draft');
      assert.match(draft.body_markdown, /every 20 minutes/);
      assert.equal(draft.feature_image_id, imageId);

      assert.equal(await seriousFindings(page), '', 'editor: no serious or critical axe findings');
      await page.screenshot({ path: path.join(screenshotDir, 'newsroom-editor-desktop.png'), fullPage: true });

      // Keyboard only: Tab from the body to "Publish now", and press Enter.
      await body.focus();
      let reached = false;
      for (let i = 0; i < 80 && !reached; i++) {
        await page.keyboard.press('Tab');
        reached = await page.evaluate(() => {
          const el = document.activeElement;
          return el instanceof HTMLButtonElement && el.value === 'publish';
        });
      }
      assert.ok(reached, '"Publish now" is reachable with Tab');
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
      assert.notEqual(outline, 'none', 'the focused button shows its focus');
      await Promise.all([page.waitForURL(/\?saved=published$/), page.keyboard.press('Enter')]);
      assert.match((await page.textContent('[role="status"].newsroom__notice')) ?? '', /Published/);

      const reader = await context.newPage();
      const response = await reader.goto(`${base}/articles/night-buses-return-to-the-harbour-line`);
      assert.equal(response?.status(), 200);
      assert.equal(await reader.locator('h1').first().textContent(), 'Night buses return to the harbour line');
      assert.equal(await reader.locator('.article__body script').count(), 0);
      assert.match((await reader.locator('.kicker').first().textContent()) ?? '', /Culture/);
    } finally {
      await context.close();
    }
  });

  for (const viewport of ['phone', 'desktop'] as ViewportName[]) {
    it(`fits a ${viewport} screen: list and editor, screenshotted`, async () => {
      const context = await newContext(browser, { viewport });
      try {
        const page = await signIn(context, base);
        for (const [name, url] of [
          ['list', '/newsroom/articles'],
          ['editor', '/newsroom/articles/new'],
        ] as const) {
          await page.goto(base + url);
          const { scrollWidth, innerWidth } = await page.evaluate(() => ({
            scrollWidth: document.scrollingElement?.scrollWidth ?? Infinity,
            innerWidth: window.innerWidth,
          }));
          assert.ok(scrollWidth <= innerWidth, `${url}: ${scrollWidth}px wide on a ${innerWidth}px screen`);
          if (viewport === 'phone' || name === 'list')
            await page.screenshot({
              path: path.join(screenshotDir, `newsroom-editor-${name}-${viewport}.png`),
              fullPage: true,
            });
        }
      } finally {
        await context.close();
      }
    });
  }
});
