/**
 * The rich article editor in Chromium, as a reporter uses it: Markdown shortcuts and the toolbar, a paste
 * from Google Docs (with a script and a tracking pixel), an image dropped onto the body, a gallery, a video
 * and an embed card, then "Publish now"; the public page has the headings, lists, quotes and figures (with
 * srcset and alt) and no script. Then what must be refused or neutralised with a message: a 5 MB paste, an
 * image card with an outside URL, an HTML card with a script (and from a contributor at all), an embed of a
 * `javascript:` URL. The editor passes axe-core on a phone and a desktop; screenshots go to test-output/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { makeJpeg } from '../src/modules/media/media.fixtures.ts';
import { UserService } from '../src/modules/users/users.service.ts';
import { ensureEditorBundle } from '../src/ui/editor-bundle.ts';
import { describeFindings, launchBrowser, newContext, runAxe, signInThroughBrowser, type ViewportName } from './helpers/browser.ts';
import { testPassword } from './helpers/newsroom.ts';
import { createTestSite, type TestSite } from './helpers/site.ts';

const screenshotDir = path.join(import.meta.dirname, '..', 'test-output', 'screenshots');
const editorEmail = 'desk@example.com';
const contributorEmail = 'stringer@example.com';

async function seriousFindings(page: Page): Promise<string> {
  return describeFindings((await runAxe(page)).filter((f) => f.impact === 'serious' || f.impact === 'critical'));
}

/** The article body: the one element named "Article body" with role textbox. */
const bodyOf = (page: Page) => page.getByRole('textbox', { name: 'Article body' });

/** The Markdown the form would post now (the hidden textarea the editor keeps up to date). */
const postedBody = (page: Page) => page.locator('#body').inputValue();

async function openNewArticle(context: BrowserContext, base: string, email: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log('PAGE ERROR', error));
  page.on('console', (m) => console.log('CONSOLE', m.text()));
  await signInThroughBrowser(page, base, email);
  await page.goto(`${base}/newsroom/articles/new`);
  await page.waitForSelector('html[data-editor-ready="true"]', { state: 'attached', timeout: 10_000 });
  return page;
}

/** Dispatches a paste of `html` (and its text) on the body, as the browser does for a real Ctrl+V. */
async function pasteHtml(page: Page, html: string, text = ''): Promise<void> {
  await bodyOf(page).evaluate(
    (element, data) => {
      const transfer = new DataTransfer();
      transfer.setData('text/html', data.html);
      transfer.setData('text/plain', data.text);
      element.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    },
    { html, text },
  );
}

describe('the rich article editor in Chromium', () => {
  let site: TestSite;
  let base: string;
  let browser: Browser;
  let jpeg: Buffer;

  before(async () => {
    await ensureEditorBundle();
    site = await createTestSite();
    base = await site.listen();
    const users = new UserService({ db: site.db, siteUrl: site.config.siteUrl, now: () => new Date() });
    await users.createUser({ email: editorEmail, role: 'editor', name: 'Dana Desk', password: testPassword });
    await users.createUser({ email: contributorEmail, role: 'contributor', name: 'Sam Stringer', password: testPassword });
    browser = await launchBrowser();
    jpeg = await makeJpeg(1600, 900);
    await mkdir(screenshotDir, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  it('types with Markdown shortcuts and the toolbar; the body is stored as Markdown', async () => {
    const context = await newContext(browser);
    try {
      const page = await openNewArticle(context, base, editorEmail);
      await page.fill('#title', 'Harbour line reopens');
      const body = bodyOf(page);
      assert.equal(await body.getAttribute('aria-multiline'), 'true');
      await body.click();
      await page.keyboard.type('## What changes\n');
      await page.keyboard.type('Buses run **every 20 minutes** and *later* at weekends.\n');
      await page.keyboard.type('> The line is back.\n\n');
      await page.keyboard.type('- First stop\nSecond stop\n\n');
      await page.keyboard.type('1. Buy a ticket\nBoard\n\n');
      await page.keyboard.type('---');
      await page.keyboard.type('Closing line ');
      await page.getByRole('button', { name: 'Bold' }).click();
      await page.keyboard.type('in bold');
      const markdown = await postedBody(page);
      console.log(markdown);
      assert.match(markdown, /^## What changes$/m);
      assert.match(markdown, /\*\*every 20 minutes\*\*/);
      assert.match(markdown, /\*later\*/);
      assert.match(markdown, /^> The line is back\.$/m);
      assert.match(markdown, /^- First stop\n- Second stop$/m);
      assert.match(markdown, /^1\. Buy a ticket\n2\. Board$/m);
      assert.match(markdown, /^---$/m);
      assert.match(markdown, /Closing line \*\*in bold\*\*/);
      await page.screenshot({ path: path.join(screenshotDir, 'rich-editor-typed-desktop.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
