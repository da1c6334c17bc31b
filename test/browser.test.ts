/**
 * The public site in a real browser (Debian's Chromium through playwright-core): what a reader notices —
 * the video plays from a Range request with its captions, the pages pass axe-core in light and dark, the
 * text sits at a readable measure, phones never scroll sideways, and everything works without JavaScript.
 * Screenshots land in test-output/screenshots/ for a human to look at.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  describeFindings,
  launchBrowser,
  newContext,
  runAxe,
  viewports,
  type ViewportName,
} from './helpers/browser.ts';
import { createTestSite, type TestSite } from './helpers/site.ts';

const articlePath = '/articles/blinken-meets-herzog-ceasefire-push';
const screenshotDir = path.join(import.meta.dirname, '..', 'test-output', 'screenshots');

/** `rgb(…)`/`rgba(…)` → relative luminance (WCAG 2.x), or null for a transparent colour. */
function luminance(cssColor: string): number | null {
  const parts = cssColor.match(/[\d.]+/g)?.map(Number) ?? [];
  const [r = 0, g = 0, b = 0, alpha = 1] = parts;
  if (parts.length < 3 || alpha === 0) return null;
  const channel = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** Lazy images below the fold would be blank in a full-page capture: load and decode them all first. */
async function loadAllImages(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await Promise.all(
      Array.from(document.images, async (img) => {
        img.loading = 'eager';
        await img.decode().catch(() => undefined);
      }),
    );
  });
}

describe('the public site in Chromium', () => {
  let site: TestSite;
  let base: string;
  let browser: Browser;

  before(async () => {
    site = await createTestSite();
    base = await site.listen();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await site?.close();
  });

  it('plays the article video: metadata over HTTP Range, ~6 s long, with its caption and captions track', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const videoResponses: { status: number; contentRange: string | undefined }[] = [];
      page.on('response', (response) => {
        if (new URL(response.url()).pathname.endsWith('.mp4')) {
          videoResponses.push({ status: response.status(), contentRange: response.headers()['content-range'] });
        }
      });
      const response = await page.goto(base + articlePath);
      assert.equal(response?.status(), 200);

      // Either the metadata arrives or the element gives up (NETWORK_NO_SOURCE when the only source fails).
      await page.waitForFunction(
        () => {
          const video = document.querySelector<HTMLVideoElement>('.article__video video');
          return (
            video !== null &&
            (video.readyState >= HTMLMediaElement.HAVE_METADATA ||
              video.networkState === HTMLMediaElement.NETWORK_NO_SOURCE)
          );
        },
        null,
        { timeout: 15_000 },
      );
      const video = await page.$eval('.article__video video', (v: HTMLVideoElement) => ({
        readyState: v.readyState,
        duration: v.duration,
        width: v.videoWidth,
        source: v.currentSrc,
      }));
      assert.ok(
        video.readyState >= 1,
        `video metadata did not load (readyState ${video.readyState}, source ${video.source || 'none'})`,
      );
      assert.ok(Math.abs(video.duration - 6) < 0.5, `video lasts ${video.duration} s, expected about 6 s`);
      assert.ok(video.width > 0, 'the video has a picture size');

      const ranged = videoResponses.filter(
        (r) => r.status === 206 && /^bytes \d+-\d+\/\d+$/.test(r.contentRange ?? ''),
      );
      assert.ok(
        ranged.length > 0,
        `no 206 Partial Content with a Content-Range for the video; saw ${JSON.stringify(videoResponses)}`,
      );

      const caption = await page.locator('.article__video figcaption').innerText();
      assert.match(caption, /^Video snippet from the meeting between Blinken and Pres\. Herzog\b/);

      // The captions track: ask for its cues (mode 'hidden' loads without drawing), then wait for the load to settle.
      const present = await page.evaluate(() => {
        const element = document.querySelector<HTMLTrackElement>('.article__video track');
        if (element?.track.mode === 'disabled') element.track.mode = 'hidden';
        return element !== null;
      });
      if (present)
        await page.waitForFunction(
          () =>
            (document.querySelector<HTMLTrackElement>('.article__video track')?.readyState ?? 0) >=
            HTMLTrackElement.LOADED,
          null,
          { timeout: 10_000 },
        );
      const track = await page.evaluate(() => {
        const element = document.querySelector<HTMLTrackElement>('.article__video track');
        return {
          present: element !== null,
          readyState: element?.readyState ?? -1,
          cues: element?.track.cues?.length ?? 0,
        };
      });
      assert.ok(track.present, 'the video has a <track>');
      assert.equal(track.readyState, 2, `captions track readyState ${track.readyState} (2 = loaded, 3 = error)`);
      assert.ok(track.cues > 0, 'the captions track has cues');
    } finally {
      await context.close();
    }
  });

  it('has no serious or critical axe-core violations on any kind of page, in light and dark', async () => {
    const pages: [string, number][] = [
      ['/', 200],
      [articlePath, 200],
      ['/tags/diplomacy', 200],
      ['/authors/noa-ben-ami', 200],
      ['/terms', 200],
      ['/privacy', 200],
      ['/no-such-page', 404],
    ];
    const context = await newContext(browser, { withAxe: true });
    try {
      // Each page loaded once and checked light, then dark: the stylesheet follows prefers-color-scheme alone.
      const page = await context.newPage();
      const found: string[] = [];
      for (const [pagePath, status] of pages) {
        await page.emulateMedia({ colorScheme: 'light' });
        const response = await page.goto(base + pagePath);
        assert.equal(response?.status(), status, `${pagePath} answered ${response?.status()}`);
        for (const colorScheme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme });
          const serious = (await runAxe(page)).filter((f) => f.impact === 'serious' || f.impact === 'critical');
          if (serious.length > 0) found.push(`${pagePath} (${colorScheme}):\n${describeFindings(serious)}`);
        }
      }
      assert.deepEqual(found, [], `axe-core found problems:\n${found.join('\n')}`);
    } finally {
      await context.close();
    }
  });

  it('sets the article at a 60–75 character measure on a desktop screen', async () => {
    const context = await newContext(browser, { viewport: 'desktop' });
    try {
      const page = await context.newPage();
      await page.goto(base + articlePath);
      // Characters per line = column width / the average advance of the paragraph's own text in its own font.
      const measures = await page.$$eval('.article__body p', (paragraphs) => {
        const canvas = document.createElement('canvas').getContext('2d');
        if (!canvas) throw new Error('no canvas');
        return paragraphs
          .filter((p) => (p.textContent ?? '').length > 200)
          .map((p) => {
            const style = getComputedStyle(p);
            canvas.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const text = p.textContent ?? '';
            const averageAdvance = canvas.measureText(text).width / text.length;
            return Math.round(p.getBoundingClientRect().width / averageAdvance);
          });
      });
      assert.ok(measures.length >= 3, 'the article has long paragraphs to measure');
      for (const measure of measures)
        assert.ok(
          measure >= 60 && measure <= 75,
          `a line holds ~${measure} characters; want 60–75 (${measures.join(', ')})`,
        );
    } finally {
      await context.close();
    }
  });

  it('never scrolls sideways on a phone', async () => {
    const context = await newContext(browser, { viewport: 'phone' });
    try {
      const page = await context.newPage();
      for (const pagePath of ['/', articlePath]) {
        await page.goto(base + pagePath);
        await loadAllImages(page);
        const { scrollWidth, innerWidth } = await page.evaluate(() => ({
          scrollWidth: document.scrollingElement?.scrollWidth ?? Infinity,
          innerWidth: window.innerWidth,
        }));
        // A mobile browser widens its layout viewport to fit overflowing content, so innerWidth alone would hide it.
        const phoneWidth = viewports.phone.viewport.width;
        assert.ok(
          scrollWidth <= phoneWidth && innerWidth <= phoneWidth,
          `${pagePath}: page is ${scrollWidth}px wide (viewport ${innerWidth}px) on a ${phoneWidth}px phone`,
        );
      }
    } finally {
      await context.close();
    }
  });

  it('sets the sign-up apart from the page, and turns dark in dark mode', async () => {
    const seen: Record<string, { body: number | null; text: number | null; signup: string; page: string }> = {};
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(base + articlePath);
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        const colours = await page.evaluate(() => ({
          page: getComputedStyle(document.body).backgroundColor,
          text: getComputedStyle(document.body).color,
          signup: getComputedStyle(document.querySelector('.signup') ?? document.body).backgroundColor,
        }));
        seen[colorScheme] = {
          body: luminance(colours.page),
          text: luminance(colours.text),
          signup: colours.signup,
          page: colours.page,
        };
        assert.notEqual(
          luminance(colours.signup),
          null,
          `${colorScheme}: the sign-up block has no background of its own`,
        );
        assert.notEqual(
          colours.signup,
          colours.page,
          `${colorScheme}: the sign-up block's background is the page's (${colours.page})`,
        );
      }
    } finally {
      await context.close();
    }
    const { light, dark } = seen;
    assert.ok(
      light?.body !== null && light?.body !== undefined && light.body > 0.8,
      `light page background is ${light?.page}`,
    );
    assert.ok(
      dark?.body !== null && dark?.body !== undefined && dark.body < 0.05,
      `dark page background is ${dark?.page}, not dark`,
    );
    assert.ok((dark?.text ?? 0) > 0.5, 'dark mode sets light text');
  });

  it('works with JavaScript disabled: article text, video and sign-up form are all there', async () => {
    const context = await newContext(browser, { javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const response = await page.goto(base + articlePath);
      assert.equal(response?.status(), 200);
      assert.match(await page.locator('h1.article__headline').innerText(), /Blinken presses for hostage deal/);
      assert.ok((await page.locator('.article__body p').count()) >= 5, 'the article body is rendered');
      assert.match(
        await page.locator('.article__body').innerText(),
        /Secretary of State Antony Blinken told Israeli President Isaac Herzog/,
      );
      assert.equal(
        await page.locator('.article__video video[controls] source[src$=".mp4"]').count(),
        1,
        'the video with its source',
      );
      const form = page.locator('form.signup__form[method="post"][action="/newsletter/subscribe"]');
      assert.equal(await form.count(), 1, 'the sign-up form posts without JavaScript');
      assert.ok(await form.locator('input[type="email"][name="email"]').isVisible(), 'an email field');
      assert.ok(
        await form.locator('input[type="checkbox"][name="consent"][required]').isVisible(),
        'a required consent box',
      );
      assert.ok(await form.locator('button[type="submit"]').isVisible(), 'a submit button');
      // Styled without scripts: the wordmark is big and serif.
      const wordmark = await page
        .locator('.masthead__title')
        .evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
      assert.ok(wordmark >= 32, `wordmark is ${wordmark}px`);
    } finally {
      await context.close();
    }
  });

  it('saves full-page screenshots of home and article, phone and desktop, light and dark', async () => {
    // Only this test's own files are replaced: other browser tests write into the same folder at the same time.
    await mkdir(screenshotDir, { recursive: true });
    // One page per screen size; each page is loaded once and captured light, then dark.
    const written = (
      await Promise.all(
        (['phone', 'desktop'] as const satisfies readonly ViewportName[]).map(async (viewport) => {
          const context = await newContext(browser, { viewport });
          try {
            const page = await context.newPage();
            const files: string[] = [];
            for (const [name, pagePath] of [
              ['home', '/'],
              ['article', articlePath],
            ] as const) {
              await page.emulateMedia({ colorScheme: 'light' });
              await page.goto(base + pagePath);
              await loadAllImages(page);
              for (const colorScheme of ['light', 'dark'] as const) {
                await page.emulateMedia({ colorScheme });
                const file = path.join(screenshotDir, `${name}-${viewport}-${colorScheme}.png`);
                await rm(file, { force: true });
                // CSS-pixel scale keeps phone captures 390px wide however dense the emulated screen.
                await page.screenshot({ path: file, fullPage: true, scale: 'css', animations: 'disabled' });
                files.push(file);
              }
            }
            return files;
          } finally {
            await context.close();
          }
        }),
      )
    ).flat();
    assert.equal(written.length, 8);
    for (const file of written) {
      const { size } = await stat(file);
      assert.ok(size > 20_000, `${path.basename(file)} is only ${size} bytes`);
      const png = await readFile(file);
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', `${path.basename(file)} is a PNG`);
      const width = png.readUInt32BE(16);
      const height = png.readUInt32BE(20);
      const expected = file.includes('-phone-') ? viewports.phone.viewport : viewports.desktop.viewport;
      assert.equal(width, expected.width, `${path.basename(file)} width`);
      assert.ok(height > expected.height, `${path.basename(file)} is a full page (${height}px tall)`);
    }
  });
});
