import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { generateArticles } from '../../../bench/generate.ts';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { AppError } from '../../errors.ts';
import { ArchiveIndex, type ArchiveFilter } from './articles.archive.ts';

/** Deep pages of the archive, read through the index, against the order worked out here from every row. */
describeEachDatabase('the archive index', (dialect) => {
  let t: TestDatabase;
  let archive: ArchiveIndex;
  let tagId = 0;
  let authorId = 0;
  /** Every published article of a listing as the database holds it, newest first by our own sort. */
  const expected = async (filter: ArchiveFilter): Promise<string[]> => {
    let query = t.db
      .selectFrom('articles')
      .select(['articles.id', 'articles.slug', 'articles.published_at'])
      .where('articles.status', '=', 'published');
    if (filter.tagId !== undefined)
      query = query
        .innerJoin('article_tags', 'article_tags.article_id', 'articles.id')
        .where('article_tags.tag_id', '=', filter.tagId);
    if (filter.authorId !== undefined)
      query = query
        .innerJoin('article_authors', 'article_authors.article_id', 'articles.id')
        .where('article_authors.author_id', '=', filter.authorId);
    const rows = await query.execute();
    return rows
      .sort((a, b) =>
        a.published_at === b.published_at ? b.id - a.id : (b.published_at ?? '') < (a.published_at ?? '') ? -1 : 1,
      )
      .map((row) => row.slug);
  };
  const slugs = async (filter: ArchiveFilter, page: number) =>
    (await archive.page(filter, page)).articles.map((a) => a.slug);

  before(async () => {
    t = await createTestDatabase(dialect);
    // 2,500 articles: 2,450 published, 205 pages; every 50th a draft. Three share a publication time (the
    // 48th's), so the id must break the tie the same way on every page.
    await generateArticles(t.db, 2500, { transactionSize: 2500 });
    await t.db
      .updateTable('articles')
      .set({ published_at: '2020-01-02T00:00:00.000Z' })
      .where('slug', 'in', ['bench-article-47', 'bench-article-49'])
      .execute();
    tagId = (await t.db.selectFrom('tags').select('id').where('slug', '=', 'bench-topic-0').executeTakeFirstOrThrow())
      .id;
    authorId = (
      await t.db.selectFrom('authors').select('id').where('slug', '=', 'bench-author-1').executeTakeFirstOrThrow()
    ).id;
    archive = new ArchiveIndex(t.db);
  });
  after(() => t.drop());

  it('returns every page of the whole archive, a tag and an author in order, and counts them', async () => {
    for (const filter of [{}, { tagId }, { authorId }] as ArchiveFilter[]) {
      const all = await expected(filter);
      const pageCount = Math.ceil(all.length / 12);
      assert.ok(pageCount >= 20, `${JSON.stringify(filter)}: ${pageCount} pages`);
      for (const page of [1, 2, 3, Math.floor(pageCount / 2), pageCount - 1, pageCount]) {
        const listing = await archive.page(filter, page);
        assert.deepEqual(
          listing.articles.map((a) => a.slug),
          all.slice((page - 1) * 12, page * 12),
          `${JSON.stringify(filter)} page ${page}`,
        );
        assert.equal(listing.total, all.length);
        assert.equal(listing.pageCount, pageCount);
        assert.equal(listing.page, page);
      }
      await assert.rejects(
        archive.page(filter, pageCount + 1),
        (error: unknown) => error instanceof AppError && error.code === 'page.not_found',
      );
    }
    // The tie at one publication time: the higher id first.
    const home = await expected({});
    const tied = home.indexOf('bench-article-49');
    assert.deepEqual(home.slice(tied, tied + 3), ['bench-article-49', 'bench-article-48', 'bench-article-47']);
    const page = Math.floor(tied / 12) + 1;
    assert.deepEqual(await slugs({}, page), home.slice((page - 1) * 12, page * 12));
    // Articles carry what a listing shows: bylines and tags.
    const deep = await archive.page({ tagId }, 20);
    assert.ok(deep.articles.every((a) => a.tags.some((tag) => tag.id === tagId) && a.authors.length > 0));
  });

  it('drops its lists with the pages: a newly published article then leads, and every page shifts by one', async () => {
    const before = await slugs({}, 100);
    await t.db
      .updateTable('articles')
      .set({ status: 'published', published_at: '2030-01-01T00:00:00.000Z' })
      .where('slug', '=', 'bench-article-100')
      .execute();
    assert.deepEqual(await slugs({}, 100), before, 'unchanged until the content-changed signal');
    archive.invalidate();
    assert.equal((await slugs({}, 1))[0], 'bench-article-100');
    const after = await slugs({}, 100);
    assert.deepEqual(after.slice(1), before.slice(0, 11));
    assert.deepEqual(after, (await expected({})).slice(99 * 12, 100 * 12));
  });

  it('leaves out an article unpublished since its list was read, rather than showing it', async () => {
    const page = await slugs({}, 50);
    const gone = page[3] ?? '';
    await t.db.updateTable('articles').set({ status: 'unpublished' }).where('slug', '=', gone).execute();
    assert.deepEqual(
      await slugs({}, 50),
      page.filter((slug) => slug !== gone),
    );
    archive.invalidate();
    assert.deepEqual(await slugs({}, 50), (await expected({})).slice(49 * 12, 50 * 12));
  });
});
