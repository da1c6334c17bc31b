import { it } from 'node:test';
import { UserService } from '/work/wt/editor/src/modules/users/users.service.ts';
import { launchBrowser, newContext, signInThroughBrowser } from '/work/wt/editor/test/helpers/browser.ts';
import { testPassword } from '/work/wt/editor/test/helpers/newsroom.ts';
import { createTestSite } from '/work/wt/editor/test/helpers/site.ts';
it('dbg', async () => {
  const site = await createTestSite();
  const base = await site.listen();
  await new UserService({ db: site.db, siteUrl: site.config.siteUrl, now: () => new Date() }).createUser({ email: 'a@example.com', role: 'editor', name: 'A', password: testPassword });
  const browser = await launchBrowser();
  const context = await newContext(browser);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('PAGEERR', e.stack));
  await signInThroughBrowser(page, base, 'a@example.com');
  const rows = await site.db.selectFrom('articles').select(['id', 'body_markdown']).execute();
  for (const row of rows) {
    await page.goto(`${base}/newsroom/articles/${row.id}`);
    await page.waitForSelector('html[data-editor-ready="true"]', { state: 'attached', timeout: 10_000 });
    const body = page.getByRole('textbox', { name: 'Article body' });
    await body.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('X');
    const md = await page.locator('#body').inputValue();
    const expected = row.body_markdown.replace(/\s+$/, '') + 'X';
    console.log(row.id, md === expected ? 'SAME' : 'DIFF');
    if (md !== expected) {
      const a = expected.split('\n'), b = md.split('\n');
      for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) { console.log(' line', i, JSON.stringify(a[i]), '=>', JSON.stringify(b[i])); }
    }
  }
  await browser.close(); await site.close();
});
