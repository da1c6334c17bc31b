/**
 * The newsroom's media pages in Chromium: an editor uploads an image (with alt text) and a video and sees
 * the progress bar reach 100%, cuts a snippet and watches the worker's progress finish, on pages with no
 * serious or critical axe-core findings that fit a phone. Screenshots: test-output/screenshots/newsroom-media-*.png.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  describeFindings,
  launchBrowser,
  newContext,
  runAxe,
  signInThroughBrowser,
} from '../../../test/helpers/browser.ts';
import { signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { type ClipWorker, createClipWorker } from './media.clips.ts';
import { makeJpeg, makeVideo } from './media.fixtures.ts';
import { MediaNewsroomService } from './media.newsroom.service.ts';
import { FileSystemMediaStorage } from './media.storage.ts';

const screenshotDir = path.join(import.meta.dirname, '..', '..', '..', 'test-output', 'screenshots');

async function assertAccessible(page: Page, what: string): Promise<void> {
  const serious = (await runAxe(page)).filter((f) => f.impact === 'serious' || f.impact === 'critical');
  assert.deepEqual(serious, [], `${what}:\n${describeFindings(serious)}`);
}

/** Uploads a file through the enhanced form and waits until the bar shows 100% and the result link appears. */
async function uploadThroughForm(page: Page, file: string, alt: string): Promise<string> {
  await page.getByLabel('Alt text (required for images)').fill(alt);
  await page.getByLabel('File', { exact: true }).setInputFiles(file);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForFunction(
    () => document.querySelector<HTMLProgressElement>('#upload-progress')?.value === 100,
    null,
    { timeout: 30_000 },
  );
  const link = page.locator('[data-upload-result] a');
  await link.waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('[data-upload-percent]').textContent(), '100%');
  assert.equal(await page.locator('[data-upload-status]').textContent(), 'Upload complete.');
  return (await link.getAttribute('href')) ?? '';
}

describe('newsroom media in Chromium', () => {
  let site: TestSite;
  let base: string;
  let browser: Browser;
  let work: string;
  let clips: ClipWorker;

  before(async () => {
    site = await createTestSite();
    base = await site.listen();
    await signInAs(site, 'editor'); // creates the user
    browser = await launchBrowser();
    work = await mkdtemp(path.join(tmpdir(), 'gazette-media-browser-'));
    const storage = new FileSystemMediaStorage(site.config.dataDir);
    const tmp = path.join(site.config.dataDir, 'tmp');
    clips = createClipWorker({
      db: site.db,
      storage,
      tmpDir: tmp,
      media: new MediaNewsroomService({ db: site.db, storage, tmpDir: tmp, now: () => new Date() }),
      options: { pollMs: 200, heartbeatMs: 100 },
    });
    clips.start();
    await mkdir(screenshotDir, { recursive: true });
  });

  after(async () => {
    await clips?.stop();
    await browser?.close();
    await site?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('uploads an image and a video with progress to 100%, cuts a snippet and shows its progress finish', async () => {
    const image = path.join(work, 'harbour.jpg');
    await writeFile(image, await makeJpeg(1800, 1000));
    const video = await makeVideo(work, 6, 'council-meeting.mp4');

    const context = await newContext(browser, { withAxe: true });
    try {
      const page = await context.newPage();
      await signInThroughBrowser(page, base, 'editor@example.com');
      await page.goto(`${base}/newsroom/media`);
      await assertAccessible(page, 'library before uploads');

      const imagePage = await uploadThroughForm(page, image, 'Cranes over the harbour at dusk');
      assert.match(imagePage, /^\/newsroom\/media\/\d+$/);
      const videoPage = await uploadThroughForm(page, video, 'The council meeting, test pattern');

      await page.reload();
      const library = (await page.locator('.media-grid').textContent()) ?? '';
      assert.match(library, /harbour\.jpg[\s\S]*Cranes over the harbour at dusk/);
      assert.match(library, /council-meeting\.mp4[\s\S]*0:06/);
      await assertAccessible(page, 'library');

      await page.goto(base + videoPage);
      await page.getByLabel('Start').fill('1');
      await page.getByLabel('End').fill('0:04');
      await page.getByRole('button', { name: 'Cut the snippet' }).click();
      const job = page.locator('[data-clip-job]').first();
      await job.waitFor();
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-clip-job]')?.dataset.status === 'done',
        null,
        { timeout: 60_000 },
      );
      assert.equal(await job.locator('progress').evaluate((p: HTMLProgressElement) => p.value), 100);
      assert.equal(await job.locator('[data-clip-status]').textContent(), 'Done');
      const snippet = job.getByRole('link', { name: 'Open the snippet' });
      await snippet.waitFor();
      await assertAccessible(page, 'video page');
      await page.screenshot({ path: path.join(screenshotDir, 'newsroom-media-video-desktop.png'), fullPage: true });

      await snippet.click();
      await page.waitForURL(/\/newsroom\/media\/\d+$/);
      assert.match((await page.locator('.media-page__facts').textContent()) ?? '', /0:03/);
      await page.goto(`${base}/newsroom/media`);
      await page.screenshot({ path: path.join(screenshotDir, 'newsroom-media-library-desktop.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('fits a 390 px phone, with no serious or critical axe findings, on the library and a video page', async () => {
    const context = await newContext(browser, { viewport: 'phone', withAxe: true });
    try {
      const page = await context.newPage();
      await signInThroughBrowser(page, base, 'editor@example.com');
      const videoId = (
        await site.db
          .selectFrom('media')
          .select('id')
          .where('kind', '=', 'video')
          .orderBy('id')
          .executeTakeFirstOrThrow()
      ).id;
      for (const [pagePath, shot] of [
        ['/newsroom/media', 'newsroom-media-library-phone.png'],
        [`/newsroom/media/${videoId}`, 'newsroom-media-video-phone.png'],
      ] as const) {
        await page.goto(base + pagePath);
        await assertAccessible(page, pagePath);
        const width = await page.evaluate(() => document.scrollingElement?.scrollWidth ?? Infinity);
        assert.ok(width <= 390, `${pagePath} is ${width}px wide on a 390px phone`);
        await page.screenshot({ path: path.join(screenshotDir, shot), fullPage: true });
      }
    } finally {
      await context.close();
    }
  });
});
