/**
 * The newsroom's stylesheet applies, in Chromium, on a phone and a desktop: the media library is a grid of
 * small thumbnails (not a bulleted list of full-width images), the newsletter preview frame is mail-sized,
 * and chart bars take the accent colour (an SVG rect with no fill rule is black). Each of these broke when
 * unclosed blocks in the stylesheet swallowed the rules after them. Screenshots:
 * test-output/screenshots/newsroom-styles-*.png.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { insertSubscribers } from '../src/modules/newsletters/newsletters.fixtures.ts';
import { UserService } from '../src/modules/users/users.service.ts';
import { launchBrowser, newContext, signInThroughBrowser, viewports, type ViewportName } from './helpers/browser.ts';
import { testPassword } from './helpers/newsroom.ts';
import { createTestSite, type TestSite } from './helpers/site.ts';

const screenshotDir = path.join(import.meta.dirname, '..', 'test-output', 'screenshots');

describe('the newsroom stylesheet in Chromium', () => {
  let site: TestSite;
  let base = '';
  let browser: Browser;

  before(async () => {
    site = await createTestSite();
    base = await site.listen();
    await new UserService({ db: site.db, siteUrl: site.config.siteUrl, now: () => new Date() }).createUser({
      email: 'editor@example.com',
      role: 'editor',
      name: 'Eda Editor',
      password: testPassword,
    });
    await insertSubscribers(site.db, 5, 'confirmed');
    browser = await launchBrowser();
    await mkdir(screenshotDir, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await site?.close();
  });

  async function shoot(page: Page, name: string, viewport: ViewportName): Promise<void> {
    await page.screenshot({
      path: path.join(screenshotDir, `newsroom-styles-${name}-${viewport}.png`),
      fullPage: true,
      scale: 'css',
      animations: 'disabled',
    });
  }

  for (const viewport of ['desktop', 'phone'] as const) {
    it(`lays out the media library, the newsletter preview and a chart on a ${viewport}`, async () => {
      const width = viewports[viewport].viewport.width;
      const context = await newContext(browser, { viewport });
      try {
        const page = await context.newPage();
        await signInThroughBrowser(page, base, 'editor@example.com');

        await page.goto(`${base}/newsroom/media`);
        const grid = await page
          .locator('ul.media-grid')
          .evaluate((el) => ({ display: getComputedStyle(el).display, listStyle: getComputedStyle(el).listStyleType }));
        assert.deepEqual(grid, { display: 'grid', listStyle: 'none' });
        const thumbs = await page
          .locator('.media-grid__thumb')
          .evaluateAll((els) => els.map((el) => el.getBoundingClientRect().width));
        assert.ok(thumbs.length >= 2, `${thumbs.length} thumbnails`);
        // Desktop: several to a row (14rem columns); phone: one to a row, inside the screen.
        const widest = viewport === 'desktop' ? 400 : width;
        for (const w of thumbs) assert.ok(w > 100 && w <= widest, `a ${w}px thumbnail on a ${width}px ${viewport}`);
        assert.ok(
          await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth),
          'the library scrolls sideways',
        );
        await shoot(page, 'media', viewport);

        await page.goto(`${base}/newsroom/newsletters/new`);
        await page.getByLabel('Subject').fill('Morning briefing');
        await page.locator('input[name="articles"]').nth(0).check();
        await page.getByRole('button', { name: 'Save and preview' }).click();
        await page.waitForURL(/\/newsroom\/newsletters\/\d+$/);
        const frame = await page
          .locator('iframe.mail-preview')
          .evaluate((el) => el.getBoundingClientRect().toJSON() as { width: number; height: number });
        assert.ok(frame.height >= 500, `preview frame ${frame.width}×${frame.height}`);
        assert.ok(
          viewport === 'desktop' ? frame.width >= 600 : frame.width >= width * 0.8 && frame.width <= width,
          `preview frame ${frame.width}×${frame.height}`,
        );
        await shoot(page, 'issue', viewport);

        await page.goto(`${base}/newsroom/subscribers`);
        const bars = page.locator('#growth-chart .chart__bars rect');
        assert.ok((await bars.count()) > 0);
        const fill = await bars.first().evaluate((el) => getComputedStyle(el).fill);
        assert.equal(fill, 'rgb(158, 27, 27)', 'bars take the accent colour');
        const chartWidth = await page.locator('#growth-chart svg').evaluate((el) => el.getBoundingClientRect().width);
        assert.ok(chartWidth > 250 && chartWidth <= Math.min(width, 768), `chart ${chartWidth}px wide`);
        await shoot(page, 'subscribers', viewport);
      } finally {
        await context.close();
      }
    });
  }
});
