import assert from 'node:assert/strict';
import axe from 'axe-core';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { testPassword } from './newsroom.ts';

/** Debian's Chromium: tests never download a browser. */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The two screens the site is designed for. */
export const viewports = {
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1366, height: 900 }, deviceScaleFactor: 1 },
} as const satisfies Record<string, BrowserContextOptions>;

export type ViewportName = keyof typeof viewports;

/** A context's cookies and storage (`context.storageState()`), e.g. a session signed in once and reused. */
export type StorageState = Awaited<ReturnType<BrowserContext['storageState']>>;

/**
 * Headless Chromium for one test file. Playwright gives every `launch()` a fresh temporary profile
 * (`--user-data-dir` in a new temp directory, removed on close), so no cache or cookie survives between runs;
 * it refuses `--user-data-dir` in `args`, which is why it is not passed here. Background networking, updates
 * and QUIC are off so the only traffic is to the test site.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/**
 * A context on one of our viewports. `bypassCSP` lets axe-core be injected despite the site's
 * `default-src 'self'`; it changes nothing else a page does.
 */
export async function newContext(
  browser: Browser,
  options: {
    viewport?: ViewportName;
    colorScheme?: 'light' | 'dark';
    javaScriptEnabled?: boolean;
    withAxe?: boolean;
    /** Cookies saved from another context, e.g. a session signed in once. */
    storageState?: StorageState | undefined;
  } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    ...(options.storageState ? { storageState: options.storageState } : {}),
    ...viewports[options.viewport ?? 'desktop'],
    colorScheme: options.colorScheme ?? 'light',
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    reducedMotion: 'reduce',
    bypassCSP: true,
  });
  // Preloading axe into every document of the context is cheaper than a script tag after each navigation.
  if (options.withAxe) await context.addInitScript({ content: axe.source });
  return context;
}

/**
 * Fills the newsroom's sign-in form by its labels and submits it with its button, as a person does, and
 * waits for the answer to replace the page: the dashboard, or the form again with its message.
 */
export async function submitSignInForm(page: Page, base: string, email: string, password: string): Promise<void> {
  await page.goto(`${base}/newsroom/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await Promise.all([
    page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame()),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
}

/** Signs `email` in through the form (the test password unless given); fails unless it lands on the dashboard. */
export async function signInThroughBrowser(
  page: Page,
  base: string,
  email: string,
  password = testPassword,
): Promise<void> {
  await submitSignInForm(page, base, email, password);
  assert.equal(new URL(page.url()).pathname, '/newsroom', `${email} signs in (at ${page.url()})`);
}

export interface AxeFinding {
  id: string;
  impact: string | null | undefined;
  help: string;
  targets: string[];
}

/** Runs axe-core (WCAG 2.x A and AA rules plus best practices) on the page as it stands. */
export async function runAxe(page: Page): Promise<AxeFinding[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axe.source });
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
  }));
}

/** One line per finding, for assertion messages: `color-contrast (serious): .kicker a, .story__meta`. */
export function describeFindings(findings: AxeFinding[]): string {
  return findings
    .map((f) => `${f.id} (${f.impact ?? 'n/a'}): ${f.help} → ${f.targets.slice(0, 8).join(', ')}`)
    .join('\n');
}

declare global {
  interface Window {
    axe: typeof axe;
  }
}
