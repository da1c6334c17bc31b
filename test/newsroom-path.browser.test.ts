/**
 * The whole newsroom path in Chromium against a real `gazette serve` process (its in-process worker cuts
 * clips and publishes on schedule): the admin made with `gazette user add` signs in, uploads a longer video,
 * cuts a snippet from it, writes an article around the snippet and schedules it; at its time the article
 * is on the site with the clip. A contributor, in the same browser, can save a draft but sees no way to
 * publish, and a hand-made publish request with a valid CSRF token is refused too.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { makeVideo, probeDuration } from '../src/modules/media/media.fixtures.ts';
import { launchBrowser, newContext } from './helpers/browser.ts';
import { testPassword } from './helpers/newsroom.ts';
import { freePort } from './helpers/ports.ts';

const root = path.join(import.meta.dirname, '..');
const gazetteBin = path.join(root, 'bin', 'gazette.js');
const screenshotDir = path.join(root, 'test-output', 'screenshots');
const timeZone = 'Asia/Jerusalem'; // the demo publication's


/** Runs `gazette …` to completion (Node 24 from node_modules, as npm scripts get it), with stdin if given. */
async function gazette(env: NodeJS.ProcessEnv, args: string[], stdin?: string): Promise<string> {
  const child = spawn(process.execPath, [gazetteBin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(stdin ?? '');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, `gazette ${args.join(' ')} failed:\n${output}`);
  return output;
}

/** `YYYY-MM-DDTHH:MM` of an instant in the publication's time zone: what a datetime-local field holds. */
function localMinute(at: Date): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

async function signIn(page: Page, base: string, email: string): Promise<void> {
  await page.goto(`${base}/newsroom/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(testPassword);
  await Promise.all([page.waitForURL(`${base}/newsroom`), page.getByRole('button', { name: 'Sign in' }).click()]);
}

describe('the whole newsroom path in Chromium, against gazette serve', () => {
  let dataDir: string;
  let base: string;
  let server: ChildProcess | undefined;
  let serverLog = '';
  let browser: Browser;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gazette-path-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', SITE_URL: base, LOG_LEVEL: 'warn', NODE_ENV: 'test' };
    delete env.DATABASE_URL;
    delete env.SMTP_URL;
    delete env.MEDIA_URL;
    await gazette(env, ['migrate']);
    await gazette(env, ['user', 'add', 'admin@example.com', '--role', 'admin', '--password-stdin'], `${testPassword}\n`);
    await gazette(env, ['user', 'add', 'writer@example.com', '--role', 'contributor', '--password-stdin'], `${testPassword}\n`);
    server = spawn(process.execPath, [gazetteBin, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) break;
      assert.ok(Date.now() < deadline && server.exitCode === null, `gazette serve did not become ready:\n${serverLog}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    browser = await launchBrowser();
    await mkdir(screenshotDir, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server?.once('exit', resolve));
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('admin: uploads a video, cuts a snippet, writes and schedules an article; it appears at its time', async () => {
    const source = await makeVideo(dataDir, 12, 'press-briefing-full.mp4');
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await signIn(page, base, 'admin@example.com');

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
      await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-clip-job]')?.dataset.status === 'done', null, { timeout: 90_000 });
      await Promise.all([page.waitForURL(/\/newsroom\/media\/\d+$/), page.locator('[data-clip-job]').first().getByRole('link', { name: 'Open the snippet' }).click()]);
      const snippetId = /(\d+)$/.exec(page.url())?.[1] ?? '';

      // The article around the snippet, scheduled for the next minute that is at least 20 s away.
      await page.goto(`${base}/newsroom/articles/new`);
      await page.fill('#title', 'Port authority answers questions on the night closures');
      await page.fill('#standfirst', 'Officials took questions for an hour; the clip shows the key exchange.');
      await page.fill('#body', 'The closures start on Monday.\n\nBuses will replace the night ferries for two weeks.');
      await page.selectOption('#video_id', snippetId);
      await page.fill('#video_caption', 'The key exchange from the port authority briefing');
      const publishAt = new Date(Math.ceil((Date.now() + 20_000) / 60_000) * 60_000);
      await page.fill('#scheduled_at', localMinute(publishAt));
      await Promise.all([page.waitForURL(/\?saved=/), page.getByRole('button', { name: 'Schedule' }).click()]);
      assert.match((await page.locator('[role="status"]').first().textContent()) ?? '', /Scheduled/i);
      await page.screenshot({ path: path.join(screenshotDir, 'newsroom-path-scheduled-desktop.png'), fullPage: true });

      const articleUrl = `${base}/articles/port-authority-answers-questions-on-the-night-closures`;
      assert.equal((await fetch(articleUrl)).status, 404, 'not on the site before its time');

      // At its time the worker publishes it, and the page (cached before as a 404 or not) shows it.
      const reader = await context.newPage();
      const deadline = publishAt.getTime() + 30_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await fetch(articleUrl)).status;
        if (status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      assert.equal(status, 200, `published by ${new Date().toISOString()} for ${publishAt.toISOString()}\n${serverLog}`);
      assert.ok(Date.now() >= publishAt.getTime(), 'not published before its time');
      await reader.goto(articleUrl);
      assert.equal(await reader.locator('h1').first().textContent(), 'Port authority answers questions on the night closures');
      assert.match((await reader.locator('.article__video figcaption').textContent()) ?? '', /The key exchange from the port authority briefing/);
      const clipUrl = await reader.locator('.article__video video source, .article__video video[src]').first().evaluate((el) => (el as HTMLSourceElement).src);
      const clip = path.join(dataDir, 'clip.mp4');
      const bytes = Buffer.from(await (await fetch(clipUrl)).arrayBuffer());
      await import('node:fs/promises').then((fs) => fs.writeFile(clip, bytes));
      const seconds = await probeDuration(clip);
      assert.ok(Math.abs(seconds - 6) < 0.6, `the snippet on the page lasts ${seconds} s, expected about 6 s`);
      await reader.goto(base);
      assert.match((await reader.locator('main').textContent()) ?? '', /Port authority answers questions on the night closures/);
      await reader.screenshot({ path: path.join(screenshotDir, 'newsroom-path-published-home-desktop.png') });
    } finally {
      await context.close();
    }
  });

  it('contributor: saves a draft, sees no way to publish, and a direct publish POST is refused', async () => {
    const context = await newContext(browser, { viewport: 'phone' });
    try {
      const page = await context.newPage();
      await signIn(page, base, 'writer@example.com');
      await page.goto(`${base}/newsroom/articles/new`);
      await page.fill('#title', 'Draft from the contributor desk');
      await page.fill('#body', 'Notes for the editor.');
      assert.equal(await page.getByRole('button', { name: 'Publish now' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Schedule' }).count(), 0);
      await Promise.all([page.waitForURL(/\/newsroom\/articles\/\d+\?saved=/), page.getByRole('button', { name: 'Save draft' }).click()]);
      const editUrl = new URL(page.url()).pathname;
      await page.screenshot({ path: path.join(screenshotDir, 'newsroom-path-contributor-phone.png'), fullPage: true });

      // The same form, submitted by hand with action=publish and the page's own valid CSRF token.
      const refused = await page.evaluate(async (url) => {
        const form = new FormData(document.querySelector('form.editor') ?? document.forms[0]);
        form.set('action', 'publish');
        const response = await fetch(url, { method: 'POST', body: new URLSearchParams(form as unknown as Record<string, string>) });
        return { status: response.status, text: await response.text() };
      }, editUrl);
      assert.equal(refused.status, 403);
      assert.match(refused.text, /not publish|draft/i);
      assert.equal((await fetch(`${base}/articles/draft-from-the-contributor-desk`)).status, 404, 'still not on the site');
    } finally {
      await context.close();
    }
  });
});
