/**
 * The newsroom's newsletter screens in Chromium: an editor composes an issue from the UI, sends a test copy
 * and the issue, and watches the live progress reach 100% while a delivery worker sends it to a real SMTP
 * server; the subscriber, newsletter and legal screens pass axe-core in light and dark; phone and desktop
 * screenshots land in test-output/screenshots/newsroom-newsletter-*.png.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createMailTransport, type MailTransport } from '../src/modules/mail/mail.transport.ts';
import { insertSubscribers } from '../src/modules/newsletters/newsletters.fixtures.ts';
import { UserService } from '../src/modules/users/users.service.ts';
import { type BackgroundWork, startBackgroundWork } from '../src/worker.ts';
import {
  describeFindings,
  launchBrowser,
  newContext,
  runAxe,
  signInThroughBrowser,
  type StorageState,
  type ViewportName,
} from './helpers/browser.ts';
import { testPassword } from './helpers/newsroom.ts';
import { createTestSite, type TestSite } from './helpers/site.ts';
import { startTestSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';

const screenshotDir = path.join(import.meta.dirname, '..', 'test-output', 'screenshots');

describe('the newsroom newsletter screens in Chromium', () => {
  let smtp: TestSmtpServer;
  let site: TestSite;
  let base: string;
  let browser: Browser;
  let transport: MailTransport;
  let work: BackgroundWork | undefined;
  let issuePath = '';

  before(async () => {
    smtp = await startTestSmtpServer({ keepRaw: true });
    site = await createTestSite({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'The Judean <newsletter@gazette.test>' } });
    base = await site.listen();
    const users = new UserService({ db: site.db, siteUrl: site.config.siteUrl, now: () => new Date() });
    await users.createUser({ email: 'editor@example.com', role: 'editor', name: 'Eda Editor', password: testPassword });
    await users.createUser({ email: 'admin@example.com', role: 'admin', name: 'Ada Admin', password: testPassword });
    await insertSubscribers(site.db, 12, 'confirmed');
    await insertSubscribers(site.db, 3, 'pending', 'waiting');
    transport = await createMailTransport(site.config);
    browser = await launchBrowser();
  });

  after(async () => {
    await work?.stop();
    transport?.close();
    await browser?.close();
    await site?.close();
    await smtp?.close();
  });

  async function signIn(context: BrowserContext, email: string): Promise<Page> {
    const page = await context.newPage();
    await signInThroughBrowser(page, base, email);
    return page;
  }

  it('an editor composes and sends a newsletter from the UI; it arrives at the SMTP server and the live progress reaches 100%', async () => {
    const context = await newContext(browser);
    try {
      const page = await signIn(context, 'editor@example.com');
      await page.getByRole('navigation', { name: 'Newsroom' }).getByRole('link', { name: 'Newsletter' }).click();
      await page.getByRole('link', { name: 'Compose an issue' }).click();
      await page.getByLabel('Subject').fill('Morning briefing');
      const boxes = page.locator('input[name="articles"]');
      await boxes.nth(0).check();
      await boxes.nth(1).check();
      await page.getByRole('button', { name: 'Save and preview' }).click();
      await page.waitForURL(/\/newsroom\/newsletters\/\d+$/);
      issuePath = new URL(page.url()).pathname;
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Morning briefing');
      // The preview is the real mail, in a sandboxed frame.
      const frame = page.frameLocator('iframe.mail-preview');
      await frame.locator('body').waitFor();
      assert.match((await frame.locator('body').textContent()) ?? '', /Unsubscribe/i);

      await page.getByLabel('Send a test copy to').fill('desk@example.org');
      await page.getByRole('button', { name: 'Send test' }).click();
      await page.getByRole('status').filter({ hasText: 'A test copy was sent to desk@example.org.' }).waitFor();
      assert.equal(smtp.accepted.get('desk@example.org'), 1);

      await page.getByRole('link', { name: 'Send to subscribers…' }).click();
      assert.equal(await page.locator('[data-recipients]').textContent(), '12');
      // Slow the server down so the progress is seen moving, then start a worker as `gazette worker` would.
      smtp.faults.delayMs = 60;
      await page.getByRole('button', { name: 'Send now' }).click();
      await page.waitForURL(`${base}${issuePath}`);
      work = await startBackgroundWork(site.config, {
        db: site.db,
        transport,
        log: () => {},
        contentChanged: site.contentChanged,
      });
      const seen = new Set<number>();
      const deadline = Date.now() + 30_000;
      for (;;) {
        const value = await page
          .locator('#issue-progress')
          .evaluate((el) => (el as HTMLProgressElement).value)
          .catch(() => -1);
        if (value >= 0) seen.add(value);
        if (
          value === 100 &&
          (await page
            .locator('[data-count="sent"]')
            .textContent()
            .catch(() => '')) === '12'
        )
          break;
        assert.ok(Date.now() < deadline, `progress stuck at ${[...seen].join(', ')}`);
        await page.waitForTimeout(50);
      }
      assert.ok(seen.has(100));
      assert.match((await page.locator('[data-progress-text]').textContent()) ?? '', /Finished: 12 sent, 0 failed\./);
      for (let i = 0; i < 12; i++) assert.equal(smtp.accepted.get(`reader${i}@example.test`), 1, `reader${i}`);
      assert.equal(smtp.accepted.has('waiting0@example.test'), false);
      await page.locator('#sent-chart svg').waitFor();
    } finally {
      smtp.faults.delayMs = 0;
      await context.close();
    }
  });

  it('an editor imports a CSV from the browser with its provenance; the progress page ends with the result and bad rows by line', async () => {
    const context = await newContext(browser);
    try {
      const page = await signIn(context, 'editor@example.com');
      await page.goto(`${base}/newsroom/subscribers`);
      await page
        .getByLabel('Where the list came from and how its readers consented')
        .fill('Paper sign-up sheet, Jerusalem book fair 2026');
      const rows = [
        'email,name,status',
        ...Array.from({ length: 1500 }, (_, i) => `fair${i}@example.net,Fair ${i},`),
        'broken-address,,',
        'fair1@example.net,,',
      ];
      await page
        .getByLabel('CSV file')
        .setInputFiles({ name: 'fair.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
      await page.getByRole('button', { name: 'Import' }).click();
      await page.waitForURL(/\/newsroom\/subscribers\/imports\/\d+$/);
      // The script reloads the page when the import is done; the result then stands on the page.
      await page.locator('[data-result="imported"]').waitFor({ timeout: 30_000 });
      assert.equal(await page.locator('[data-result="imported"]').textContent(), '1500');
      assert.equal(await page.locator('#import-progress').evaluate((el) => (el as HTMLProgressElement).value), 100);
      assert.deepEqual(await page.locator('table.bad-rows tbody tr td:first-child').allTextContents(), [
        '1502',
        '1503',
      ]);
      const consent = await site.db
        .selectFrom('consent_events')
        .innerJoin('subscribers', 'subscribers.id', 'consent_events.subscriber_id')
        .select('consent_events.detail')
        .where('subscribers.email_key', '=', 'fair7@example.net')
        .executeTakeFirstOrThrow();
      assert.equal(
        (JSON.parse(consent.detail ?? '{}') as { source?: string }).source,
        'Paper sign-up sheet, Jerusalem book fair 2026',
      );
    } finally {
      await context.close();
    }
  });

  it('passes axe-core (no serious or critical findings) on the subscriber, newsletter and legal screens, light and dark, and saves screenshots', async () => {
    await mkdir(screenshotDir, { recursive: true });
    const subscriberId = (await site.db.selectFrom('subscribers').select('id').orderBy('id').executeTakeFirstOrThrow())
      .id;
    const screens: { name: string; path: string; admin?: boolean }[] = [
      { name: 'dashboard', path: '/newsroom' },
      { name: 'subscribers', path: '/newsroom/subscribers' },
      { name: 'subscriber', path: `/newsroom/subscribers/${subscriberId}` },
      { name: 'newsletters', path: '/newsroom/newsletters' },
      { name: 'compose', path: '/newsroom/newsletters/new' },
      { name: 'issue', path: issuePath || '/newsroom/newsletters' },
      { name: 'legal', path: '/newsroom/legal', admin: true },
      { name: 'users', path: '/newsroom/users', admin: true },
    ];
    const found: string[] = [];
    // Dark mode on the screens with charts and status colours; light on every screen.
    const darkScreens = ['subscribers', 'newsletters', 'issue', 'legal'];
    // Each role signs in once, on the phone; the desktop reuses its session cookie. Dark mode is switched on
    // the page already loaded: the stylesheets follow prefers-color-scheme alone, no script reads it.
    const sessions: { editor?: StorageState; admin?: StorageState } = {};
    for (const viewport of ['phone', 'desktop'] as ViewportName[]) {
      const contexts = {
        editor: await newContext(browser, { viewport, withAxe: true, storageState: sessions.editor }),
        admin: await newContext(browser, { viewport, withAxe: true, storageState: sessions.admin }),
      };
      try {
        const pages = {
          editor: sessions.editor
            ? await contexts.editor.newPage()
            : await signIn(contexts.editor, 'editor@example.com'),
          admin: sessions.admin ? await contexts.admin.newPage() : await signIn(contexts.admin, 'admin@example.com'),
        };
        sessions.editor ??= await contexts.editor.storageState();
        sessions.admin ??= await contexts.admin.storageState();
        for (const screen of screens) {
          const page = screen.admin ? pages.admin : pages.editor;
          await page.emulateMedia({ colorScheme: 'light' });
          await page.goto(`${base}${screen.path}`);
          assert.equal(
            new URL(page.url()).pathname,
            screen.path,
            `${screen.name} is shown to the signed-in ${screen.admin ? 'admin' : 'editor'}`,
          );
          for (const colorScheme of darkScreens.includes(screen.name)
            ? (['light', 'dark'] as const)
            : (['light'] as const)) {
            await page.emulateMedia({ colorScheme });
            const serious = (await runAxe(page)).filter((f) => f.impact === 'serious' || f.impact === 'critical');
            if (serious.length > 0)
              found.push(`${screen.path} (${viewport}, ${colorScheme}):\n${describeFindings(serious)}`);
            if (viewport === 'phone') {
              const overflow = await page.evaluate(
                () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
              );
              if (overflow > 0) {
                const wide = await page.evaluate(() =>
                  Array.from(document.querySelectorAll('main *'))
                    .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth)
                    .slice(0, 5)
                    .map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
                );
                found.push(`${screen.path} scrolls sideways on a phone by ${overflow}px: ${wide.join(', ')}`);
              }
            }
            if (colorScheme === 'light' || ['subscribers', 'issue'].includes(screen.name)) {
              await page.screenshot({
                path: path.join(screenshotDir, `newsroom-newsletter-${screen.name}-${viewport}-${colorScheme}.png`),
                fullPage: true,
                scale: 'css',
                animations: 'disabled',
              });
            }
          }
        }
      } finally {
        await contexts.editor.close();
        await contexts.admin.close();
      }
    }
    assert.deepEqual(found, [], found.join('\n\n'));
  });
});
