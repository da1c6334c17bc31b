import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateArticles } from '../../bench/generate.ts';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';

/** The archive's deep pages over HTTP: the right twelve articles, and links that lead on and back. */
describe('deep archive pages', () => {
  let site: TestSite;
  const slugsOf = (body: string) =>
    [...body.matchAll(/class="story__headline"><a href="\/articles\/([^"]+)"/g)].map((m) => m[1]);
  /** Every published slug of a listing, newest first, worked out from the rows. */
  const listing = async (filter: { tag?: string; author?: string }): Promise<string[]> => {
    let query = site.db
      .selectFrom('articles')
      .select(['articles.id', 'articles.slug', 'articles.published_at'])
      .where('articles.status', '=', 'published');
    if (filter.tag)
      query = query
        .innerJoin('article_tags', 'article_tags.article_id', 'articles.id')
        .innerJoin('tags', 'tags.id', 'article_tags.tag_id')
        .where('tags.slug', '=', filter.tag);
    if (filter.author)
      query = query
        .innerJoin('article_authors', 'article_authors.article_id', 'articles.id')
        .innerJoin('authors', 'authors.id', 'article_authors.author_id')
        .where('authors.slug', '=', filter.author);
    const rows = await query.execute();
    return rows
      .sort((a, b) =>
        a.published_at === b.published_at ? b.id - a.id : (b.published_at ?? '') < (a.published_at ?? '') ? -1 : 1,
      )
      .map((r) => r.slug);
  };

  before(async () => {
    site = await createTestSite();
    await generateArticles(site.db, 1300);
  });
  after(() => site.close());

  for (const { base, filter } of [
    { base: '', filter: {} },
    { base: '/tags/bench-topic-0', filter: { tag: 'bench-topic-0' } },
    { base: '/authors/bench-author-0', filter: { author: 'bench-author-0' } },
  ]) {
    it(`pages ${base || 'the home page'} deep into its archive with prev and next links`, async () => {
      const all = await listing(filter);
      const pageCount = Math.ceil(all.length / 12);
      assert.ok(pageCount > 20, `${pageCount} pages`);
      const path = (n: number) => (n === 1 ? base || '/' : `${base}/page/${n}`);
      for (const page of [2, Math.floor(pageCount / 2), pageCount - 1, pageCount]) {
        const response = await site.app.inject({ url: path(page) });
        assert.equal(response.statusCode, 200, path(page));
        const expected = all.slice((page - 1) * 12, page * 12);
        // The home page's first page leads with one story; deeper pages list twelve in the grid.
        assert.deepEqual(slugsOf(response.body), expected, path(page));
        assert.match(response.body, new RegExp(`Page ${page} of ${pageCount}<`));
        assert.ok(response.body.includes(`<a rel="prev" href="${path(page - 1)}">`), `prev on ${path(page)}`);
        assert.ok(response.body.includes(`<link rel="prev" href="http://gazette.test${path(page - 1)}">`));
        if (page < pageCount) {
          assert.ok(response.body.includes(`<a rel="next" href="${path(page + 1)}">`), `next on ${path(page)}`);
          assert.ok(response.body.includes(`<link rel="next" href="http://gazette.test${path(page + 1)}">`));
        } else {
          assert.doesNotMatch(response.body, /rel="next"/);
        }
      }
      assert.equal((await site.app.inject({ url: path(pageCount + 1) })).statusCode, 404);
    });
  }

  it('shifts every page by one when an article is published (the index drops with the pages)', async () => {
    const before = slugsOf((await site.app.inject({ url: '/page/50' })).body);
    await site.db
      .updateTable('articles')
      .set({ status: 'published', published_at: new Date().toISOString() })
      .where('slug', '=', 'bench-article-650')
      .execute();
    await site.contentChanged();
    const after = slugsOf((await site.app.inject({ url: '/page/50' })).body);
    assert.deepEqual(after.slice(1), before.slice(0, 11));
    assert.deepEqual(after, (await listing({})).slice(49 * 12, 50 * 12));
  });
});
