import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';
import { demoArticles, demoAuthors, demoTags } from '../modules/seed/demo.content.ts';
import { newArticleRow } from '../modules/articles/articles.fixtures.ts';

const lead = demoArticles[0]!;

describe('the public site', () => {
  let site: TestSite;
  before(async () => {
    site = await createTestSite();
  });
  after(() => site.close());

  const get = (url: string, headers: Record<string, string> = {}) => site.app.inject({ method: 'GET', url, headers });

  it('shows the latest articles on the home page, newest first, with the lead story and its poster', async () => {
    const res = await get('/');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    const headlines = [...res.body.matchAll(/class="story__headline"><a href="\/articles\/([^"]+)"/g)].map((m) => m[1]);
    const expected = [...demoArticles].sort((a, b) => a.hoursAgo - b.hoursAgo).map((a) => a.slug);
    assert.deepEqual(headlines, expected);
    assert.match(
      res.body,
      /<section class="lead"[^>]*>\s*<article class="story story--lead">\s*<a class="story__media"[^>]*><img src="\/media\/blinken-herzog-snippet\.[0-9a-f]{12}\.jpg"/,
    );
    assert.match(res.body, /<p class="masthead__title"><a href="\/" rel="home">The Judean<\/a>/);
  });

  it('renders the article: headline, standfirst, bylines to author pages, times, video figure, tags and the sign-up', async () => {
    const res = await get(`/articles/${lead.slug}`);
    assert.equal(res.statusCode, 200);
    const body = res.body;
    assert.match(body, /<h1 class="article__headline">Blinken presses for hostage deal/);
    assert.match(body, /<p class="article__standfirst">/);
    assert.match(body, /By <a href="\/authors\/noa-ben-ami" rel="author">Noa Ben-Ami<\/a>/);
    const times = [...body.matchAll(/<time datetime="([^"]+)">/g)].map((m) => m[1]);
    const published = new Date(site.seededAt.getTime() - lead.hoursAgo * 3600_000).toISOString();
    const updated = new Date(site.seededAt.getTime() - (lead.updatedHoursAgo ?? 0) * 3600_000).toISOString();
    assert.deepEqual(times.slice(0, 2), [published, updated], 'published and updated times');
    assert.match(body, /Updated <time/);
    // The video snippet, as on the seed page: poster, metadata preload, captions track, caption.
    assert.match(
      body,
      /<figure class="article__video">\s*<video controls preload="metadata" playsinline poster="\/media\/[^"]+\.jpg"/,
    );
    assert.match(body, /<source src="\/media\/blinken-herzog-snippet\.[0-9a-f]{12}\.mp4" type="video\/mp4">/);
    assert.match(body, /<track kind="captions" src="\/media\/[^"]+\.vtt" srclang="en" label="Captions" default>/);
    assert.match(body, /<figcaption>Video snippet from the meeting between Blinken and Pres\. Herzog/);
    for (const tagSlug of lead.tagSlugs) assert.match(body, new RegExp(`<a href="/tags/${tagSlug}">`));
    // The sign-up closes the article: heading, email field, required unticked consent with both links.
    const signup = body.slice(body.indexOf('<section class="signup"'));
    assert.ok(
      body.indexOf('<section class="signup"') > body.indexOf('<div class="article__body'),
      'sign-up after the body',
    );
    assert.match(signup, /<h2 id="signup-heading" class="signup__heading">Sign up for The Judean newsletter<\/h2>/);
    assert.match(signup, /<input class="signup__input" id="signup-email" name="email" type="email" required/);
    assert.match(signup, /<input id="signup-consent" name="consent" type="checkbox" value="yes" required>/);
    assert.doesNotMatch(signup, /checked/);
    assert.match(
      signup,
      /I agree with the <a href="\/terms">Terms and conditions<\/a> and the <a href="\/privacy">Privacy policy<\/a>/,
    );
  });

  it('lists a tag’s articles on its page, and an author’s on theirs', async () => {
    for (const tag of demoTags) {
      const res = await get(`/tags/${tag.slug}`);
      assert.equal(res.statusCode, 200, tag.slug);
      assert.match(res.body, new RegExp(`<h1 class="archive-header__title">${tag.name}</h1>`));
      const listed = [...res.body.matchAll(/class="story__headline"><a href="\/articles\/([^"]+)"/g)]
        .map((m) => m[1])
        .sort();
      const expected = demoArticles
        .filter((a) => a.tagSlugs.includes(tag.slug))
        .map((a) => a.slug)
        .sort();
      assert.deepEqual(listed, expected, tag.slug);
    }
    for (const author of demoAuthors) {
      const res = await get(`/authors/${author.slug}`);
      assert.equal(res.statusCode, 200);
      const listed = [...res.body.matchAll(/class="story__headline"><a href="\/articles\/([^"]+)"/g)]
        .map((m) => m[1])
        .sort();
      assert.deepEqual(
        listed,
        demoArticles
          .filter((a) => a.authorSlugs.includes(author.slug))
          .map((a) => a.slug)
          .sort(),
      );
    }
  });

  it('serves the Terms and the Privacy policy with their version, and earlier versions by number', async () => {
    for (const path of ['/terms', '/privacy']) {
      const res = await get(path);
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /Version 1, published <time/);
      assert.equal((await get(`${path}?version=1`)).statusCode, 200);
      assert.equal((await get(`${path}?version=9`)).statusCode, 404);
      const bad = await get(`${path}?version=one`);
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /whole number/);
    }
  });

  it('pages the home page when there are more articles than fit, and 404s past the end', async () => {
    assert.equal((await get('/page/1')).statusCode, 200);
    assert.equal((await get('/page/2')).statusCode, 404);
    assert.equal((await get('/page/0')).statusCode, 404);
    assert.equal((await get('/page/abc')).statusCode, 404);
  });

  it('answers a repeat visit with 304 from the ETag, and compresses for browsers that accept it', async () => {
    const first = await get(`/articles/${lead.slug}`);
    const etag = first.headers.etag;
    assert.ok(typeof etag === 'string' && etag.length > 10);
    const again = await get(`/articles/${lead.slug}`, { 'if-none-match': etag });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    const gz = await site.app.inject({ url: `/articles/${lead.slug}`, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.rawPayload).toString(), first.body);
    const br = await site.app.inject({
      url: `/articles/${lead.slug}`,
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(br.rawPayload).toString(), first.body);
    assert.equal(first.headers.vary, 'Accept-Encoding');
    assert.match(String(first.headers['cache-control']), /s-maxage=\d+, stale-while-revalidate=\d+/);
  });

  it('sends security headers on every page, including errors', async () => {
    for (const url of ['/', `/articles/${lead.slug}`, '/no-such-page']) {
      const res = await get(url);
      assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'DENY');
    }
  });

  it('shows a 404 page in the site’s look for an unknown article, tag or author', async () => {
    for (const url of ['/articles/no-such-story', '/tags/no-such-tag', '/authors/nobody', '/nothing/here']) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.match(res.body, /<h1 class="article__headline">Page not found<\/h1>/);
      assert.match(res.body, /<p class="masthead__title">/);
      assert.match(res.body, /<meta name="robots" content="noindex">/);
    }
    const json = await get('/articles/no-such-story', { accept: 'application/json' });
    assert.deepEqual(JSON.parse(json.body), {
      error: { code: 'article.not_found', message: 'There is no article at this address.' },
    });
  });

  it('serves the stylesheet under a fingerprinted name with a year of immutable caching', async () => {
    const home = await get('/');
    const href =
      /<link rel="stylesheet" href="(\/assets\/site\.[0-9a-f]{10}\.css)" integrity="sha384-[A-Za-z0-9+/=]+">/.exec(
        home.body,
      )?.[1];
    assert.ok(href);
    const css = await get(href);
    assert.equal(css.statusCode, 200);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(css.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal((await get('/assets/site.0000000000.css')).statusCode, 404);
  });
});

describe('pagination', () => {
  it('pages the home and tag archives twelve at a time, newest first, with prev/next links', async () => {
    const site = await createTestSite();
    try {
      const tag = await site.db
        .selectFrom('tags')
        .select('id')
        .where('slug', '=', 'analysis')
        .executeTakeFirstOrThrow();
      for (let i = 1; i <= 20; i++) {
        const at = new Date(Date.UTC(2020, 0, i)).toISOString(); // older than every demo article
        const { id } = await site.db
          .insertInto('articles')
          .values(newArticleRow({ slug: `archive-${i}`, title: `Archive story ${i}`, body_markdown: 'Text.' }, at))
          .returning('id')
          .executeTakeFirstOrThrow();
        await site.db.insertInto('article_tags').values({ article_id: id, tag_id: tag.id, position: 0 }).execute();
      }
      const slugsOf = (body: string) =>
        [...body.matchAll(/class="story__headline"><a href="\/articles\/([^"]+)"/g)].map((m) => m[1]);
      const first = await site.app.inject({ url: '/' });
      assert.equal(slugsOf(first.body).length, 12);
      assert.match(first.body, /<a rel="next" href="\/page\/2">/);
      assert.match(first.body, /<link rel="next" href="http:\/\/gazette\.test\/page\/2">/);
      const second = await site.app.inject({ url: '/page/2' });
      assert.equal(second.statusCode, 200);
      // 5 demo + 20 archive = 25: page 2 holds the 13th to the 24th, newest first.
      assert.deepEqual(
        slugsOf(second.body),
        Array.from({ length: 12 }, (_, k) => `archive-${20 - (k + 12 - 5)}`),
      );
      assert.match(second.body, /<a rel="prev" href="\/">/);
      assert.match(second.body, /Page 2 of 3/);
      assert.equal((await site.app.inject({ url: '/page/3' })).statusCode, 200);
      assert.equal((await site.app.inject({ url: '/page/4' })).statusCode, 404);
      const tagPage2 = await site.app.inject({ url: '/tags/analysis/page/2' });
      assert.equal(tagPage2.statusCode, 200);
      assert.match(tagPage2.body, /<a rel="prev" href="\/tags\/analysis">/);
    } finally {
      await site.close();
    }
  });
});

describe('a failing database', () => {
  it('shows the 500 page in the site’s look, with no stack trace', async () => {
    const site = await createTestSite();
    try {
      await site.db.destroy(); // every query now fails
      const res = await site.app.inject({ url: '/articles/anything-at-all' });
      assert.equal(res.statusCode, 500);
      assert.match(res.body, /Something went wrong/);
      assert.doesNotMatch(res.body, /at .+\.ts:\d+|Error:|stack/i);
    } finally {
      await site.app.close();
    }
  });
});
