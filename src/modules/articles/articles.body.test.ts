import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { newArticleRow } from './articles.fixtures.ts';

/**
 * An article's body is rendered and sanitised once, when it is saved, and stored; readers' pages, feeds,
 * search, structured data and newsletters then show the stored rendering. These tests edit through the
 * newsroom over HTTP and read what readers get.
 */
describe('article bodies rendered at save', () => {
  let site: TestSite;
  let editor: NewsroomClient;
  let id = 0;
  const slug = 'harbour-ferry-timetable';

  const idFrom = (response: LightMyRequestResponse): number => {
    assert.equal(response.statusCode, 303, response.body.slice(0, 2000));
    const match = /^\/newsroom\/articles\/(\d+)\?saved=/.exec(String(response.headers.location));
    assert.ok(match?.[1], `redirected to the article: ${String(response.headers.location)}`);
    return Number(match[1]);
  };
  const stored = () =>
    site.db
      .selectFrom('articles')
      .select(['body_html', 'body_text', 'revision', 'title', 'slug'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  const get = (url: string) => site.app.inject({ method: 'GET', url });
  /** The JSON-LD NewsArticle of an article page. */
  const jsonLd = (page: string): Record<string, unknown> => {
    const match = /<script type="application\/ld\+json">([^]*?)<\/script>/.exec(page);
    assert.ok(match?.[1], 'the page has JSON-LD');
    return JSON.parse(match[1]) as Record<string, unknown>;
  };

  before(async () => {
    site = await createTestSite();
    editor = await signInAs(site, 'editor');
  });
  after(() => site.close());

  it('stores the sanitised HTML when an article is published, and the page shows it', async () => {
    id = idFrom(
      await editor.post('/newsroom/articles', {
        title: 'Harbour ferry timetable',
        slug,
        standfirst: '',
        body: 'The first **timetable** runs hourly.\n\n<script>alert(1)</script><img src=x onerror="alert(2)">',
        action: 'publish',
      }),
    );
    const row = await stored();
    assert.match(row.body_html ?? '', /<p>The first <strong>timetable<\/strong> runs hourly.<\/p>/);
    assert.doesNotMatch(row.body_html ?? '', /script|onerror/);
    assert.equal(row.body_text, 'The first timetable runs hourly.');
    const page = await get(`/articles/${slug}`);
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      /<div class="article__body prose"><p>The first <strong>timetable<\/strong> runs hourly.<\/p>/,
    );
    assert.doesNotMatch(page.body, /alert\(/);
  });

  it('re-renders the stored HTML on an edit, and every reader-facing output shows the new text', async () => {
    // Warm what readers are served from memory, so the edit must also reach the cached copies.
    for (const url of [`/articles/${slug}`, '/feed.xml', '/feed.json', '/atom.xml'])
      assert.equal((await get(url)).statusCode, 200);
    const before = await stored();
    idFrom(
      await editor.post(`/newsroom/articles/${id}`, {
        title: before.title,
        slug: before.slug,
        standfirst: '',
        body: 'Boats now leave every *half hour*, says the [port authority](https://port.example/ferries).\n\n## Winter\n\nFewer boats from November.',
        revision: String(before.revision),
        action: 'save',
      }),
    );
    const row = await stored();
    assert.match(row.body_html ?? '', /<em>half hour<\/em>/);
    assert.equal(
      row.body_text,
      'Boats now leave every half hour, says the port authority. Winter Fewer boats from November.',
    );

    const page = await get(`/articles/${slug}`);
    assert.match(
      page.body,
      /Boats now leave every <em>half hour<\/em>, says the <a href="https:\/\/port.example\/ferries">port authority<\/a>/,
    );
    assert.match(page.body, /<h2>Winter<\/h2>/);
    assert.doesNotMatch(page.body, /first <strong>timetable/);
    // Without a standfirst the descriptions come from the body's text.
    assert.match(
      page.body,
      /<meta name="description" content="Boats now leave every half hour, says the port authority\. Winter Fewer boats from November\.">/,
    );
    const ld = jsonLd(page.body);
    assert.equal(
      ld.description,
      'Boats now leave every half hour, says the port authority. Winter Fewer boats from November.',
    );
    assert.match(page.body, /<meta property="og:description" content="Boats now leave every half hour/);

    const rss = (await get('/feed.xml')).body;
    assert.match(
      rss,
      /Boats now leave every &lt;em&gt;half hour&lt;\/em&gt;|<!\[CDATA\[<p>Boats now leave every <em>half hour<\/em>/,
    );
    const feed = JSON.parse((await get('/feed.json')).body) as { items: { url: string; content_html: string }[] };
    const item = feed.items.find((i) => i.url.endsWith(`/articles/${slug}`));
    assert.match(item?.content_html ?? '', /<p>Boats now leave every <em>half hour<\/em>/);
    assert.doesNotMatch(item?.content_html ?? '', /timetable/);
    assert.match((await get('/atom.xml')).body, /Boats now leave every/);

    const mail = await get(`/newsletter/preview?articles=${slug}`);
    assert.equal(mail.statusCode, 200);
    assert.match(mail.body, /Boats now leave every <em>half hour<\/em>/);
    assert.match(mail.body, /<h2[^>]*>Winter<\/h2>/);

    const search = await get('/search?q=boats+authority');
    assert.match(search.body, new RegExp(`href="/articles/${slug}"`));
    assert.doesNotMatch((await get('/search?q=timetable+hourly')).body, new RegExp(`href="/articles/${slug}"`));
  });

  it('renders and stores, on first read, the body of an article written before bodies were stored', async () => {
    const at = new Date(Date.now() - 3600_000).toISOString();
    await site.db
      .insertInto('articles')
      .values(
        newArticleRow(
          {
            slug: 'from-an-older-version',
            title: 'From an older version',
            body_markdown: 'Written *before* the upgrade.',
          },
          at,
        ),
      )
      .execute();
    const before = await site.db
      .selectFrom('articles')
      .select(['body_html', 'body_text'])
      .where('slug', '=', 'from-an-older-version')
      .executeTakeFirstOrThrow();
    assert.deepEqual({ ...before }, { body_html: null, body_text: null });
    await site.contentChanged();
    // A listing never needs the body, and leaves it for the article page.
    assert.match((await get('/')).body, /From an older version/);
    const page = await get('/articles/from-an-older-version');
    assert.match(page.body, /<p>Written <em>before<\/em> the upgrade.<\/p>/);
    const after = await site.db
      .selectFrom('articles')
      .select(['body_html', 'body_text'])
      .where('slug', '=', 'from-an-older-version')
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      { ...after },
      { body_html: '<p>Written <em>before</em> the upgrade.</p>\n', body_text: 'Written before the upgrade.' },
    );
  });
});
