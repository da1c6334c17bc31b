import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { FileMigrationProvider, Migrator } from 'kysely';
import type { Db } from '../../db/index.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { seedDemoPublication } from '../seed/seed.service.ts';
import { highlight, maxQueryLength, normaliseQuery, rankingLimit, searchArticles } from './search.service.ts';
import { newArticleRow } from '../articles/articles.fixtures.ts';

const lead = 'blinken-meets-herzog-ceasefire-push';
const galleries = 'tel-aviv-galleries-stay-open-late';

/** Hostile or empty input: none may throw, none may find anything. */
const noSearch = [
  '',
  '   ',
  '"',
  '""',
  '*',
  '**',
  'AND OR NOT',
  ')(',
  '(',
  '-',
  '- -',
  'NEAR',
  '^',
  ':',
  "'",
  ';--',
  '\u0000',
  '\u0002\u0003',
  '\u0301',
];

async function insertArticle(
  db: Db,
  values: {
    slug: string;
    title: string;
    standfirst?: string;
    body?: string;
    status?: 'draft' | 'published';
    publishedAt?: string;
  },
) {
  const at = values.publishedAt ?? '2026-11-20T10:00:00.000Z';
  const { id } = await db
    .insertInto('articles')

    .values(
      newArticleRow(
        {
          slug: values.slug,
          title: values.title,
          standfirst: values.standfirst ?? '',
          body_markdown: values.body ?? '',
          status: values.status ?? 'published',
        },
        at,
      ),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

describe('search query normalisation', () => {
  it('keeps only letters and digits as terms, lower-cased and without operators', () => {
    assert.deepEqual(normaliseQuery('  Herzog   "ceasefire" AND hostages* ').terms, [
      'herzog',
      'ceasefire',
      'hostages',
    ]);
    assert.deepEqual(normaliseQuery('title:foo OR bar^2 NEAR(x y)').terms, ['title', 'foo', 'bar', '2', 'x', 'y']);
    for (const q of noSearch) assert.deepEqual(normaliseQuery(q).terms, [], JSON.stringify(q));
  });

  it('cuts a huge query to the maximum length and caps the terms', () => {
    const { text, terms } = normaliseQuery('word '.repeat(2000));
    assert.ok(text.length <= maxQueryLength);
    assert.deepEqual(terms, ['word']);
    assert.equal(normaliseQuery(Array.from({ length: 50 }, (_, i) => `w${i}`).join(' ')).terms.length, 12);
  });

  it('escapes the snippet and pairs the markers into <mark>, never leaving one open', () => {
    assert.equal(highlight('a \u0002<b>\u0003 & \u0002c'), 'a <mark>&lt;b&gt;</mark> &amp; <mark>c</mark>');
    assert.equal(highlight('\u0003x\u0002\u0002y\u0003\u0003'), 'x<mark>y</mark>');
    assert.equal(highlight('**bold** [link](http://x) ## head'), 'bold link head');
  });
});

describeEachDatabase('search', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase(dialect);
    await seedDemoPublication(t.db, { dataDir: t.dataDir, now: new Date('2026-11-25T12:00:00.000Z') });
  });
  after(() => t.drop());

  const slugs = async (q: string) => (await searchArticles(t.db, q)).results.map((r) => r.article.slug);

  it('finds the same articles on both databases', async () => {
    assert.deepEqual(await slugs('Herzog'), [lead]);
    assert.deepEqual(await slugs('ceasefire hostages'), [lead]);
    assert.deepEqual(await slugs('galleries'), [galleries]);
    assert.deepEqual(await slugs('HERZOG'), [lead], 'case-insensitive');
    assert.deepEqual(await slugs('Hérzog'), [lead], 'an accent in the query still finds the bare word');
    assert.deepEqual(await slugs('Blink'), [lead], 'prefix');
    assert.deepEqual(await slugs('galleries ceasefire'), [], 'every term must match');
    assert.equal((await searchArticles(t.db, 'the')).total, 5);
  });

  it('returns the results shape with a highlighted snippet', async () => {
    const found = await searchArticles(t.db, 'ceasefire hostages');
    assert.equal(found.query, 'ceasefire hostages');
    assert.equal(found.total, 1);
    assert.equal(found.page, 1);
    assert.equal(found.pageCount, 1);
    const [first] = found.results;
    assert.ok(first);
    assert.equal(first.article.title, 'Blinken presses for hostage deal in Tel Aviv talks with Herzog');
    assert.ok(first.article.authors.length > 0, 'hydrated like any article');
    assert.match(first.snippetHtml, /<mark>ceasefire<\/mark>/i);
    assert.match(first.snippetHtml, /<mark>hostages<\/mark>/i);
    assert.ok(first.rank > 0);
  });

  it('finds nothing, and throws nothing, for empty, punctuation-only, operator-only and huge queries', async () => {
    for (const q of [...noSearch, '"unbalanced', 'a'.repeat(10_000), '(herzog', 'herzog)"*']) {
      const found = await searchArticles(t.db, q);
      if (normaliseQuery(q).terms.length === 0) assert.equal(found.total, 0, JSON.stringify(q));
    }
    assert.deepEqual(await slugs('(herzog'), [lead], 'syntax characters are ignored, the word still counts');
    assert.equal((await searchArticles(t.db, 'x '.repeat(5000) + 'herzog')).query.length <= maxQueryLength, true);
  });

  it('ranks a title match above a body-only match', async () => {
    // The body-only article is newer, so only ranking can put the title match first.
    await insertArticle(t.db, {
      slug: 'zebra-body',
      title: 'A quiet week',
      body: 'The zebracorn appeared once, briefly.',
      publishedAt: '2026-11-24T10:00:00.000Z',
    });
    await insertArticle(t.db, {
      slug: 'zebra-title',
      title: 'The zebracorn returns',
      body: 'Nothing else to add.',
      publishedAt: '2026-11-10T10:00:00.000Z',
    });
    await insertArticle(t.db, {
      slug: 'zebra-standfirst',
      title: 'Animals',
      standfirst: 'A zebracorn, at last.',
      publishedAt: '2026-11-23T10:00:00.000Z',
    });
    assert.deepEqual(await slugs('zebracorn'), ['zebra-title', 'zebra-standfirst', 'zebra-body']);
  });

  it('never shows drafts or unpublished articles, and follows edits and deletions', async () => {
    const draftId = await insertArticle(t.db, { slug: 'herzog-draft', title: 'Herzog draft quokka', status: 'draft' });
    assert.deepEqual(await slugs('quokka'), []);
    assert.deepEqual(await slugs('Herzog'), [lead]);
    await t.db
      .updateTable('articles')
      .set({ status: 'published', published_at: '2026-11-21T00:00:00.000Z' })
      .where('id', '=', draftId)
      .execute();
    assert.deepEqual(await slugs('quokka'), ['herzog-draft']);
    await t.db.updateTable('articles').set({ status: 'unpublished' }).where('id', '=', draftId).execute();
    assert.deepEqual(await slugs('quokka'), []);
    await t.db
      .updateTable('articles')
      .set({ status: 'published', title: 'Renamed wombat' })
      .where('id', '=', draftId)
      .execute();
    assert.deepEqual(await slugs('quokka'), [], 'the old title is gone from the index');
    assert.deepEqual(await slugs('wombat'), ['herzog-draft']);
    await t.db.deleteFrom('articles').where('id', '=', draftId).execute();
    assert.deepEqual(await slugs('wombat'), []);
  });

  it('pages through many results', async () => {
    for (let i = 0; i < 23; i++) await insertArticle(t.db, { slug: `okapi-${i}`, title: `Okapi sighting ${i}` });
    const first = await searchArticles(t.db, 'okapi');
    assert.equal(first.total, 23);
    assert.equal(first.pageCount, 3);
    assert.equal(first.results.length, 10);
    const third = await searchArticles(t.db, 'okapi', 3);
    assert.equal(third.results.length, 3);
    const all = new Set(
      [...first.results, ...(await searchArticles(t.db, 'okapi', 2)).results, ...third.results].map(
        (r) => r.article.slug,
      ),
    );
    assert.equal(all.size, 23);
    assert.deepEqual((await searchArticles(t.db, 'okapi', 9)).results, [], 'past the end: no results, no error');
  });

  it('lists the newest first, unranked, when a query matches more than the ranking limit', async () => {
    const at = '2026-01-01T00:00:00.000Z';
    const base = {
      standfirst: '',
      status: 'published' as const,
      feature_image_id: null,
      video_id: null,
      video_caption: null,
      seo_title: null,
      seo_description: null,
      correction_note: null,
      scheduled_at: null,
      published_at: at,
      updated_at: at,
      created_at: at,
    };
    for (let from = 0; from < rankingLimit + 2; from += 500) {
      const rows = Array.from({ length: Math.min(500, rankingLimit + 2 - from) }, (_, i) => ({
        ...base,
        slug: `capybara-${from + i}`,
        title: `Capybara ${from + i}`,
        body_markdown: 'capybara',
      }));
      await t.db.insertInto('articles').values(rows).execute();
    }
    const found = await searchArticles(t.db, 'capybara');
    assert.equal(found.total, rankingLimit + 1, 'counted no further than one past the limit');
    assert.equal(found.order, 'newest');
    assert.equal(found.pageCount, 100);
    assert.equal(found.results[0]?.article.slug, `capybara-${rankingLimit + 1}`);
    assert.equal((await searchArticles(t.db, 'okapi')).order, 'rank');
  });

  it('backfills the index from existing articles when the migration runs (published only)', async () => {
    await insertArticle(t.db, { slug: 'backfill-draft', title: 'Meerkat draft', status: 'draft' });
    await insertArticle(t.db, { slug: 'backfill-published', title: 'Meerkat published' });
    const migrationFolder = path.join(import.meta.dirname, '../../db/migrations');
    const migrator = new Migrator({ db: t.db, provider: new FileMigrationProvider({ fs, path, migrationFolder }) });
    // Down to the migration before search's (later migrations are undone on the way), then up again.
    const down = await migrator.migrateTo('20261125140000_users');
    assert.equal(down.error, undefined);
    assert.ok(down.results?.some((r) => r.migrationName === '20261125150000_search' && r.direction === 'Down'));
    await migrateToLatest(t.db);
    assert.deepEqual(await slugs('meerkat'), ['backfill-published']);
    assert.deepEqual(await slugs('Herzog'), [lead]);
  });
});
