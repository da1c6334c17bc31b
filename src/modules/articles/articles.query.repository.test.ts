import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { newArticleRow } from './articles.fixtures.ts';
import type { ArticleCondition } from './articles.query.ts';
import { listAuthorsWithCounts, listTagsWithCounts, queryPublishedArticleRows } from './articles.query.repository.ts';

/** The machine interfaces' article filters as SQL, on each database. */
describeEachDatabase('article queries', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase(dialect);
    const at = '2024-05-01T00:00:00.000Z';
    const tag = async (slug: string) =>
      (
        await t.db
          .insertInto('tags')
          .values({ slug, name: slug, description: '', created_at: at })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    const author = async (slug: string) =>
      (
        await t.db
          .insertInto('authors')
          .values({ slug, name: slug, bio: '', email: null, avatar_media_id: null, created_at: at })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    const [news, sport] = [await tag('news'), await tag('sport')];
    await tag('empty');
    const [ada, bo] = [await author('ada'), await author('bo')];
    const article = async (
      slug: string,
      day: number,
      tags: number[],
      authors: number[],
      status: 'published' | 'draft' = 'published',
    ) => {
      const id = (
        await t.db
          .insertInto('articles')
          .values(newArticleRow({ slug, title: slug, status }, `2024-05-0${day}T12:00:00.000Z`))
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
      if (tags.length > 0)
        await t.db
          .insertInto('article_tags')
          .values(tags.map((tag_id, position) => ({ article_id: id, tag_id, position })))
          .execute();
      if (authors.length > 0)
        await t.db
          .insertInto('article_authors')
          .values(authors.map((author_id, position) => ({ article_id: id, author_id, position })))
          .execute();
    };
    await article('one', 1, [news], [ada]);
    await article('two', 2, [sport, news], [bo, ada]);
    await article('three', 3, [sport], [bo]);
    await article('hidden', 4, [news], [ada], 'draft');
  });
  after(() => t.drop());

  const slugs = async (where: ArticleCondition, order: 'asc' | 'desc' = 'asc') =>
    (
      await queryPublishedArticleRows(t.db, {
        where,
        order: [{ field: 'published_at', direction: order }],
        limit: 10,
        offset: 0,
      })
    ).rows.map((r) => r.slug);

  it('filters by tag, primary tag, author, primary author, slug, id and time, combined with all, any and not', async () => {
    assert.deepEqual(await slugs({ field: 'tag', in: ['news'] }), ['one', 'two']);
    assert.deepEqual(await slugs({ field: 'primary_tag', in: ['news'] }), ['one']);
    assert.deepEqual(await slugs({ field: 'author', in: ['ada'] }), ['one', 'two']);
    assert.deepEqual(await slugs({ field: 'primary_author', in: ['bo'] }), ['two', 'three']);
    assert.deepEqual(await slugs({ not: { field: 'tag', in: ['news'] } }), ['three']);
    assert.deepEqual(
      await slugs({
        all: [
          { field: 'tag', in: ['sport'] },
          { field: 'author', in: ['ada'] },
        ],
      }),
      ['two'],
    );
    assert.deepEqual(
      await slugs({
        any: [
          { field: 'slug', in: ['one'] },
          { field: 'published_at', op: '>=', value: '2024-05-03T00:00:00.000Z' },
        ],
      }),
      ['one', 'three'],
    );
    assert.deepEqual(await slugs({ always: false }), []);
    assert.deepEqual(await slugs({ all: [] }, 'desc'), ['three', 'two', 'one']);
    const { rows, total } = await queryPublishedArticleRows(t.db, {
      where: { all: [] },
      order: [{ field: 'title', direction: 'asc' }],
      limit: 2,
      offset: 1,
    });
    assert.deepEqual([rows.map((r) => r.slug), total], [['three', 'two'], 3]);
  });

  it('counts published articles per tag and per author', async () => {
    assert.deepEqual(
      (await listTagsWithCounts(t.db)).map((x) => [x.slug, x.posts]),
      [
        ['empty', 0],
        ['news', 2],
        ['sport', 2],
      ],
    );
    assert.deepEqual(
      (await listAuthorsWithCounts(t.db)).map((x) => [x.slug, x.posts]),
      [
        ['ada', 2],
        ['bo', 2],
      ],
    );
  });
});
