import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';

/** Settings and the masthead's sections are read once and kept until content changes, on every kind of page. */
describe('the shared page context', () => {
  let site: TestSite;
  const sectionsOf = (body: string) =>
    [...body.matchAll(/<li><a href="\/tags\/([a-z0-9-]+)">([^<]+)<\/a><\/li>/g)].map((m) => m[2]);
  before(async () => {
    site = await createTestSite();
  });
  after(() => site.close());

  it('shows renamed sections and new settings on every page once content has changed', async () => {
    const home = await site.app.inject({ url: '/' });
    assert.ok(sectionsOf(home.body).includes('Diplomacy'), sectionsOf(home.body).join(', '));
    await site.db.updateTable('tags').set({ name: 'Foreign affairs' }).where('slug', '=', 'diplomacy').execute();
    await site.db
      .updateTable('settings')
      .set({ value: JSON.stringify('The Evening Judean') })
      .where('key', '=', 'publicationName')
      .execute();
    await site.contentChanged();
    for (const url of ['/', '/privacy', '/articles/blinken-meets-herzog-ceasefire-push', '/no-such-page']) {
      const page = await site.app.inject({ url });
      assert.ok(sectionsOf(page.body).includes('Foreign affairs'), `${url}: ${sectionsOf(page.body).join(', ')}`);
      assert.match(page.body, /<p class="masthead__title"><a href="\/" rel="home">The Evening Judean<\/a><\/p>/, url);
    }
  });

  it('reads again after a failed read instead of keeping the failure', async () => {
    await site.db.schema.alterTable('settings').renameTo('settings_away').execute();
    site.pages.invalidate();
    assert.equal((await site.app.inject({ url: '/terms' })).statusCode, 500);
    await site.db.schema.alterTable('settings_away').renameTo('settings').execute();
    const page = await site.app.inject({ url: '/terms' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /The Evening Judean/);
  });
});
