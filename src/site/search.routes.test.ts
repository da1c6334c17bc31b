import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HtmlValidate } from 'html-validate';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';
import { newArticleRow } from '../modules/articles/articles.fixtures.ts';

describe('GET /search', () => {
  let site: TestSite;
  before(async () => {
    site = await createTestSite();
  });
  after(() => site.close());

  const get = (url: string) => site.app.inject({ method: 'GET', url });

  it('shows highlighted results, is never cached and never indexed', async () => {
    const res = await get('/search?q=Herzog');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.match(res.body, /<title>Search – /);
    assert.match(res.body, /<meta name="robots" content="noindex">/);
    assert.match(res.body, /1 result for “Herzog”/);
    assert.match(res.body, /<mark>Herzog<\/mark>/);
    assert.match(res.body, /<a href="\/articles\/blinken-meets-herzog-ceasefire-push">Blinken presses/);
    assert.match(
      res.body,
      /<input class="search-form__input" id="search-query" name="q" type="search" maxlength="200" value="Herzog"/,
    );
    // The page cache never answers it: a second request renders afresh with the same result.
    assert.equal((await get('/search?q=Herzog')).headers['cache-control'], 'no-store');
  });

  it('shows the form alone for an empty query', async () => {
    for (const url of ['/search', '/search?q=', '/search?q=%20%20']) {
      const res = await get(url);
      assert.equal(res.statusCode, 200, url);
      assert.match(res.body, /<h1 class="archive-header__title">Search<\/h1>/);
      assert.doesNotMatch(res.body, /results? for/);
      assert.doesNotMatch(res.body, /class="search-result"/);
    }
  });

  it('reflects markup in the query escaped, never as markup', async () => {
    const res = await get(`/search?q=${encodeURIComponent('<script>alert(1)</script> "herzog')}`);
    assert.equal(res.statusCode, 200);
    assert.doesNotMatch(res.body, /<script>alert/);
    assert.match(res.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &quot;herzog/);
  });

  it('answers hostile queries with no results and no error', async () => {
    for (const q of [
      '"',
      '*',
      'AND OR NOT',
      ')(',
      '-',
      "'; DROP TABLE articles; --",
      'NEAR(',
      '^',
      '\u2028',
      'x'.repeat(1500),
    ]) {
      const res = await get(`/search?q=${encodeURIComponent(q)}`);
      assert.equal(res.statusCode, 200, JSON.stringify(q));
      assert.doesNotMatch(res.body, /class="search-result"/, JSON.stringify(q));
    }
    const stillThere = await get('/search?q=herzog');
    assert.match(stillThere.body, /1 result for/);
  });

  it('answers a 10 KB query without a server error (the URL limit applies first)', async () => {
    const res = await get(`/search?q=${'herzog%20'.repeat(1200)}`);
    assert.ok(res.statusCode < 500, String(res.statusCode));
    assert.equal(res.statusCode, 414);
  });

  it('takes the first q when it is repeated, and refuses a bad page number with 400', async () => {
    const res = await get('/search?q=galleries&q=herzog');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /1 result for “galleries”/);
    for (const page of ['0', 'abc', '-1', '1e3', '101']) {
      assert.equal((await get(`/search?q=herzog&page=${page}`)).statusCode, 400, page);
    }
    const past = await get('/search?q=herzog&page=2');
    assert.equal(past.statusCode, 200);
    assert.match(past.body, /No more results/);
  });

  it('never shows a draft', async () => {
    const at = new Date().toISOString();
    await site.db
      .insertInto('articles')
      .values(
        newArticleRow(
          { slug: 'secret-draft', title: 'Herzog secret draft platypus', body_markdown: 'platypus', status: 'draft' },
          at,
        ),
      )
      .execute();
    for (const q of ['platypus', 'Herzog', 'secret']) {
      const res = await get(`/search?q=${q}`);
      assert.doesNotMatch(res.body, /secret-draft/, q);
    }
  });

  it('has a search form in the masthead of every page', async () => {
    const res = await get('/');
    assert.match(
      res.body,
      /<form class="masthead__search" role="search" aria-label="Site search" action="\/search" method="get">/,
    );
    assert.match(res.body, /<label class="visually-hidden" for="masthead-search">Search articles<\/label>/);
  });

  it('is valid HTML with results, without results and empty', async () => {
    const validator = new HtmlValidate({
      extends: ['html-validate:standard', 'html-validate:a11y', 'html-validate:document'],
      rules: { 'no-inline-style': 'error' },
    });
    for (const url of ['/search?q=the', '/search?q=herzog', '/search?q=nothingmatches', '/search']) {
      const report = await validator.validateString((await get(url)).body);
      const errors = report.results.flatMap((r) =>
        r.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId} (line ${m.line}): ${m.message}`),
      );
      assert.deepEqual(errors, [], url);
    }
  });

  it('says "more than 1,000 results, newest first" past the ranking limit, and pages them', async () => {
    const at = '2026-01-01T00:00:00.000Z';
    const base = {
      standfirst: '',
      body_markdown: 'tapir',
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
    for (let from = 0; from < 1001; from += 500) {
      await site.db
        .insertInto('articles')
        .values(
          Array.from({ length: Math.min(500, 1001 - from) }, (_, i) => ({
            ...base,
            slug: `tapir-${from + i}`,
            title: `Tapir ${from + i}`,
          })),
        )
        .execute();
    }
    const res = await get('/search?q=tapir');
    assert.match(res.body, /More than 1,000 results, newest first, for “tapir” – page 1 of 100/);
    assert.match(res.body, /<a rel="next" href="\/search\?q=tapir&amp;page=2">Next →<\/a>/);
    assert.match((await get('/search?q=tapir&page=100')).body, /page 100 of 100/);
  });
});
