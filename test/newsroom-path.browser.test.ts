/**
 * The whole newsroom path in Chromium against a real `gazette serve` process (its in-process worker cuts
 * clips and publishes on schedule): the admin made with `gazette user add` signs in, uploads a longer video,
 * cuts a snippet from it, writes an article around the snippet and schedules it; at its time the article
 * is on the site with the clip. The server runs on a test clock (TEST_CLOCK_FILE), which the test moves to
 * the article's time rather than waiting for it. A contributor, in the same browser, can save a draft but sees no way to
 * publish, and a hand-made publish request with a valid CSRF token is refused too.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { makeVideo, probeDuration } from '../src/modules/media/media.fixtures.ts';
import { launchBrowser, newContext, signInThroughBrowser } from './helpers/browser.ts';
import { eventually } from './helpers/eventually.ts';
import { type GazetteProcess, runGazette, spawnGazette } from './helpers/gazette-process.ts';
import { testPassword } from './helpers/newsroom.ts';
import { freePort } from './helpers/ports.ts';

const root = path.join(import.meta.dirname, '..');
const screenshotDir = path.join(root, 'test-output', 'screenshots');
const timeZone = 'Asia/Jerusalem'; // the demo publication's

/** Runs `gazette …` to completion, with stdin if given; fails the test on a non-zero exit. */
async function gazette(env: NodeJS.ProcessEnv, args: string[], stdin?: string): Promise<string> {
  const { code, output } = await runGazette(args, env, stdin === undefined ? {} : { stdin });
  assert.equal(code, 0, `gazette ${args.join(' ')} failed:\n${output}`);
  return output;
}

/** `YYYY-MM-DDTHH:MM` of an instant in the publication's time zone: what a datetime-local field holds. */
function localMinute(at: Date): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

describe('the whole newsroom path in Chromium, against gazette serve', () => {
  let dataDir: string;
  let base: string;
  let server: GazetteProcess | undefined;
  let browser: Browser;
  let env: NodeJS.ProcessEnv;
  let clockFile: string;
  /** Moves the server's clock (and its worker's) so that it reads `at` now. */
  const setServerClock = (at: Date) => writeFile(clockFile, String(at.getTime() - Date.now()));

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gazette-path-'));
    clockFile = path.join(dataDir, 'clock');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      SITE_URL: base,
      NODE_ENV: 'test',
      TEST_CLOCK_FILE: clockFile,
    };
    await gazette(env, ['migrate']);
    await gazette(
      env,
      ['user', 'add', 'admin@example.com', '--role', 'admin', '--password-stdin'],
      `${testPassword}\n`,
    );
    await gazette(
      env,
      ['user', 'add', 'writer@example.com', '--role', 'contributor', '--password-stdin'],
      `${testPassword}\n`,
    );
    server = spawnGazette(['serve'], env);
    await eventually(
      async () => {
        if (server?.child.exitCode !== null) throw new Error(`gazette serve exited:\n${server?.output()}`);
        return fetch(`${base}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        );
      },
      () => `gazette serve to be ready:\n${server?.output()}`,
      60_000,
      100,
    );
    browser = await launchBrowser();
    await mkdir(screenshotDir, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('admin: uploads a video, cuts a snippet, writes and schedules an article; it appears at its time', async () => {
    const source = await makeVideo(dataDir, 12, 'press-briefing-full.mp4');
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await signInThroughBrowser(page, base, 'admin@example.com');

      // The long recording, uploaded with the progress bar running to 100%.
      await page.goto(`${base}/newsroom/media`);
      await page.getByLabel('File', { exact: true }).setInputFiles(source);
      await page.getByRole('button', { name: 'Upload' }).click();
      const uploaded = page.locator('[data-upload-result] a');
      await uploaded.waitFor({ timeout: 60_000 });
      assert.equal(await page.locator('[data-upload-percent]').textContent(), '100%');

      // Cut seconds 3 to 9 out of it; the worker inside `serve` does it, and the page follows its progress.
      await page.goto(base + ((await uploaded.getAttribute('href')) ?? ''));
      await page.getByLabel('Start').fill('3');
      await page.getByLabel('End').fill('9');
      await page.getByRole('button', { name: 'Cut the snippet' }).click();
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('[data-clip-job]')?.dataset.status === 'done',
        null,
        { timeout: 90_000 },
      );
      await Promise.all([
        page.waitForURL(/\/newsroom\/media\/\d+$/),
        page.locator('[data-clip-job]').first().getByRole('link', { name: 'Open the snippet' }).click(),
      ]);
      const snippetId = /(\d+)$/.exec(page.url())?.[1] ?? '';

      // The article around the snippet, scheduled for a minute far enough ahead that only the test clock
      // can bring it (the old wait for the wall clock's next minute took up to 80 s).
      await page.goto(`${base}/newsroom/articles/new`);
      await page.fill('#title', 'Port authority answers questions on the night closures');
      await page.fill('#standfirst', 'Officials took questions for an hour; the clip shows the key exchange.');
      await page.getByRole('textbox', { name: 'Article body' }).click();
      await page.keyboard.type('The closures start on Monday.\nBuses will replace the night ferries for two weeks.');
      await page.selectOption('#video_id', snippetId);
      await page.fill('#video_caption', 'The key exchange from the port authority briefing');
      const publishAt = new Date(Math.ceil((Date.now() + 3_600_000) / 60_000) * 60_000);
      await page.fill('#scheduled_at', localMinute(publishAt));
      await Promise.all([page.waitForURL(/\?saved=/), page.getByRole('button', { name: 'Schedule' }).click()]);
      assert.match((await page.locator('[role="status"]').first().textContent()) ?? '', /Scheduled/i);
      await page.screenshot({ path: path.join(screenshotDir, 'newsroom-path-scheduled-desktop.png'), fullPage: true });

      const articleUrl = `${base}/articles/port-authority-answers-questions-on-the-night-closures`;
      assert.equal((await fetch(articleUrl)).status, 404, 'not on the site before its time');

      // At its time (the server's clock moved there) the worker publishes it, within one of its rounds, and
      // the page (cached before as a 404 or not) shows it.
      await setServerClock(publishAt);
      const reader = await context.newPage();
      await eventually(
        async () => (await fetch(articleUrl)).status === 200,
        () => `the article published for ${publishAt.toISOString()}:\n${server?.output()}`,
        30_000,
        250,
      );
      await reader.goto(articleUrl);
      assert.equal(
        await reader.locator('h1').first().textContent(),
        'Port authority answers questions on the night closures',
      );
      const published = await reader
        .locator('script[type="application/ld+json"]')
        .evaluateAll(
          (scripts) =>
            scripts
              .map((s) => JSON.parse(s.textContent ?? '{}') as { '@type'?: string; datePublished?: string })
              .find((d) => d['@type'] === 'NewsArticle')?.datePublished,
        );
      assert.ok(
        published && new Date(published).getTime() >= publishAt.getTime(),
        `published at ${published ?? 'no date'}, not before ${publishAt.toISOString()}`,
      );
      assert.match(
        (await reader.locator('.article__video figcaption').textContent()) ?? '',
        /The key exchange from the port authority briefing/,
      );
      const clipUrl = await reader
        .locator('.article__video video source, .article__video video[src]')
        .first()
        .evaluate((el) => (el as HTMLSourceElement).src);
      const clip = path.join(dataDir, 'clip.mp4');
      const bytes = Buffer.from(await (await fetch(clipUrl)).arrayBuffer());
      await writeFile(clip, bytes);
      const seconds = await probeDuration(clip);
      assert.ok(Math.abs(seconds - 6) < 0.6, `the snippet on the page lasts ${seconds} s, expected about 6 s`);
      await reader.goto(base);
      assert.match(
        (await reader.locator('main').textContent()) ?? '',
        /Port authority answers questions on the night closures/,
      );
      await reader.screenshot({ path: path.join(screenshotDir, 'newsroom-path-published-home-desktop.png') });
    } finally {
      await context.close();
    }
  });

  it('contributor: saves a draft, sees no way to publish, and a direct publish POST is refused', async () => {
    const context = await newContext(browser, { viewport: 'phone' });
    try {
      const page = await context.newPage();
      await signInThroughBrowser(page, base, 'writer@example.com');
      await page.goto(`${base}/newsroom/articles/new`);
      await page.fill('#title', 'Draft from the contributor desk');
      await page.getByRole('textbox', { name: 'Article body' }).click();
      await page.keyboard.type('Notes for the editor.');
      assert.equal(await page.getByRole('button', { name: 'Publish now' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Schedule' }).count(), 0);
      await Promise.all([
        page.waitForURL(/\/newsroom\/articles\/\d+\?saved=/),
        page.getByRole('button', { name: 'Save draft' }).click(),
      ]);
      const editUrl = new URL(page.url()).pathname;
      await page.screenshot({ path: path.join(screenshotDir, 'newsroom-path-contributor-phone.png'), fullPage: true });

      // The same form, submitted by hand with action=publish and the page's own valid CSRF token.
      const refused = await page.evaluate(async (url) => {
        const form = new FormData(document.querySelector('form.editor') ?? document.forms[0]);
        form.set('action', 'publish');
        const response = await fetch(url, {
          method: 'POST',
          body: new URLSearchParams(form as unknown as Record<string, string>),
        });
        return { status: response.status, text: await response.text() };
      }, editUrl);
      assert.equal(refused.status, 403);
      assert.match(refused.text, /not publish|draft/i);
      assert.equal(
        (await fetch(`${base}/articles/draft-from-the-contributor-desk`)).status,
        404,
        'still not on the site',
      );
    } finally {
      await context.close();
    }
  });
});
