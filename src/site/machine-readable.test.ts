import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseJsonFeed } from 'feedsmith';
import Parser from 'rss-parser';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';
import { demoArticles } from '../modules/seed/demo.content.ts';

const lead = demoArticles[0]!;
const siteUrl = 'http://gazette.test';

/** Every JSON-LD block of a page, parsed. */
function jsonLd(body: string): Record<string, unknown>[] {
  return [...body.matchAll(/<script type="application\/ld\+json">(.*?)<\/script>/gs)].map(
    (m) => JSON.parse(m[1]!) as Record<string, unknown>,
  );
}

function meta(body: string, property: string): string[] {
  return [
    ...body.matchAll(
      new RegExp(`<meta (?:property|name)="${property.replace(/[.:]/g, '\\$&')}" content="([^"]*)">`, 'g'),
    ),
  ].map((m) => m[1]!);
}

describe('machine-readable output', () => {
  let site: TestSite;
  before(async () => {
    site = await createTestSite();
  });
  after(() => site.close());
  const get = (url: string) => site.app.inject({ url });

  it('describes the article as a schema.org NewsArticle with its VideoObject', async () => {
    const body = (await get(`/articles/${lead.slug}`)).body;
    const [article] = jsonLd(body);
    assert.ok(article);
    assert.equal(article['@context'], 'https://schema.org');
    assert.equal(article['@type'], 'NewsArticle');
    assert.equal(article.headline, lead.title);
    assert.equal(article.datePublished, new Date(site.seededAt.getTime() - lead.hoursAgo * 3600_000).toISOString());
    assert.equal(
      article.dateModified,
      new Date(site.seededAt.getTime() - (lead.updatedHoursAgo ?? 0) * 3600_000).toISOString(),
    );
    assert.deepEqual(article.author, [
      { '@type': 'Person', name: 'Noa Ben-Ami', url: `${siteUrl}/authors/noa-ben-ami` },
    ]);
    const publisher = article.publisher as Record<string, unknown>;
    assert.equal(publisher.name, 'The Judean');
    const logo = publisher.logo as Record<string, unknown>;
    assert.match(String(logo.url), /^http:\/\/gazette\.test\/media\/logo\.[0-9a-f]{12}\.png$/);
    assert.ok((await get(String(logo.url).slice(siteUrl.length))).statusCode === 200, 'the logo is served');
    assert.match(String((article.image as string[])[0]), /^http:\/\/gazette\.test\/media\/.+\.jpg$/);
    const video = article.video as Record<string, unknown>;
    assert.equal(video['@type'], 'VideoObject');
    assert.equal(video.name, 'Video snippet from the meeting between Blinken and Pres. Herzog');
    assert.ok(typeof video.description === 'string' && video.description.length > 0);
    assert.match(String((video.thumbnailUrl as string[])[0]), /\.jpg$/);
    assert.ok(!Number.isNaN(Date.parse(String(video.uploadDate))));
    assert.match(
      String(video.contentUrl),
      /^http:\/\/gazette\.test\/media\/blinken-herzog-snippet\.[0-9a-f]{12}\.mp4$/,
    );
    assert.equal(video.duration, 'PT6S');
  });

  it('has Open Graph and Twitter card tags and a canonical link', async () => {
    const body = (await get(`/articles/${lead.slug}`)).body;
    assert.deepEqual(meta(body, 'og:type'), ['article']);
    assert.deepEqual(meta(body, 'og:title'), [lead.title]);
    assert.deepEqual(meta(body, 'og:url'), [`${siteUrl}/articles/${lead.slug}`]);
    assert.equal(meta(body, 'og:image').length, 1);
    assert.equal(meta(body, 'og:video').length, 1);
    assert.deepEqual(meta(body, 'twitter:card'), ['summary_large_image']);
    assert.match(body, new RegExp(`<link rel="canonical" href="${siteUrl}/articles/${lead.slug}">`));
  });

  it('lets search show large image previews, gives the card image its alt text, and the locale as Open Graph spells it', async () => {
    const body = (await get(`/articles/${lead.slug}`)).body;
    assert.deepEqual(meta(body, 'robots'), ['max-image-preview:large']);
    const [image] = meta(body, 'twitter:image');
    const [alt] = meta(body, 'twitter:image:alt');
    assert.ok(image && alt && alt.length > 0, 'twitter:image and its alt text');
    const row = await site.db
      .selectFrom('media')
      .select('alt_text')
      .where('file_name', '=', decodeURIComponent(image.split('/media/')[1]!))
      .executeTakeFirstOrThrow();
    assert.equal(alt, row.alt_text || lead.title);
    assert.deepEqual(meta(body, 'og:locale'), ['en_US']);
    assert.deepEqual(meta((await get('/')).body, 'og:locale'), ['en_US']);
    const setLocale = async (locale: string) => {
      await site.db.deleteFrom('settings').where('key', '=', 'locale').execute();
      await site.db
        .insertInto('settings')
        .values({ key: 'locale', value: JSON.stringify(locale) })
        .execute();
      site.pages.invalidate();
    };
    await setLocale('he');
    try {
      assert.deepEqual(meta((await get(`/articles/${lead.slug}`)).body, 'og:locale'), ['he_IL']);
    } finally {
      await setLocale('en');
    }
  });

  it('gives a page that is not there no canonical link, and keeps it out of the index', async () => {
    const res = await get('/articles/no-such-article');
    assert.equal(res.statusCode, 404);
    assert.doesNotMatch(res.body, /rel="canonical"/);
    assert.deepEqual(meta(res.body, 'robots'), ['noindex']);
  });

  it('escapes text in JSON-LD so that a headline cannot close the script element', async () => {
    await site.db
      .updateTable('articles')
      .set({ title: 'Hostile </script><script>alert(1)</script>' })
      .where('slug', '=', lead.slug)
      .execute();
    site.pages.invalidate();
    const body = (await get(`/articles/${lead.slug}`)).body;
    assert.doesNotMatch(body, /<script>alert/);
    assert.equal(jsonLd(body)[0]?.headline, 'Hostile </script><script>alert(1)</script>');
    await site.db.updateTable('articles').set({ title: lead.title }).where('slug', '=', lead.slug).execute();
    site.pages.invalidate();
  });

  it('advertises the three feeds on every page', async () => {
    for (const url of ['/', `/articles/${lead.slug}`, '/tags/diplomacy', '/terms']) {
      const body = (await get(url)).body;
      assert.match(
        body,
        /<link rel="alternate" type="application\/rss\+xml" [^>]*href="http:\/\/gazette\.test\/feed\.xml">/,
        url,
      );
      assert.match(
        body,
        /<link rel="alternate" type="application\/atom\+xml" [^>]*href="http:\/\/gazette\.test\/atom\.xml">/,
        url,
      );
      assert.match(
        body,
        /<link rel="alternate" type="application\/feed\+json" [^>]*href="http:\/\/gazette\.test\/feed\.json">/,
        url,
      );
    }
  });

  it('publishes an RSS 2.0 feed that a feed reader parses, newest first, with full bodies', async () => {
    const res = await get('/feed.xml');
    assert.equal(res.headers['content-type'], 'application/rss+xml; charset=utf-8');
    const feed = await new Parser().parseString(res.body);
    assert.equal(feed.title, 'The Judean');
    const expected = [...demoArticles].sort((a, b) => a.hoursAgo - b.hoursAgo);
    assert.deepEqual(
      feed.items.map((i) => i.link),
      expected.map((a) => `${siteUrl}/articles/${a.slug}`),
    );
    const first = feed.items[0]!;
    assert.equal(first.title, lead.title);
    assert.match(String((first as Record<string, unknown>)['content:encoded']), /<p>TEL AVIV/);
    assert.equal(
      new Date(String(first.pubDate)).getTime(),
      Math.floor((site.seededAt.getTime() - lead.hoursAgo * 3600_000) / 1000) * 1000,
    );
  });

  it('publishes an Atom feed that a feed reader parses', async () => {
    const res = await get('/atom.xml');
    assert.equal(res.headers['content-type'], 'application/atom+xml; charset=utf-8');
    const feed = await new Parser().parseString(res.body);
    assert.equal(feed.items.length, demoArticles.length);
    assert.equal(feed.items[0]?.title, lead.title);
    assert.equal(feed.items[0]?.link, `${siteUrl}/articles/${lead.slug}`);
    assert.equal(feed.items[0]?.author, 'Noa Ben-Ami');
  });

  it("carries the article's video in every feed: JSON Feed attachment, Atom enclosure, Media RSS content", async () => {
    const video = await site.db
      .selectFrom('articles')
      .innerJoin('media', 'media.id', 'articles.video_id')
      .select(['media.file_name', 'media.byte_size', 'media.mime_type', 'media.duration_seconds'])
      .where('articles.slug', '=', lead.slug)
      .executeTakeFirstOrThrow();
    const videoUrl = `${siteUrl}/media/${video.file_name}`;

    const json = parseJsonFeed((await get('/feed.json')).body);
    const item = json.items?.find((i) => i.url === `${siteUrl}/articles/${lead.slug}`);
    assert.deepEqual(item?.attachments, [
      {
        url: videoUrl,
        mime_type: video.mime_type,
        size_in_bytes: video.byte_size,
        duration_in_seconds: video.duration_seconds,
      },
    ]);
    assert.ok(
      json.items?.some((i) => i.attachments === undefined),
      'articles without a video have no attachment',
    );

    const atom = (await get('/atom.xml')).body;
    assert.ok(
      atom.includes(`<link href="${videoUrl}" rel="enclosure" type="${video.mime_type}" length="${video.byte_size}"/>`),
      'Atom enclosure link',
    );

    const rss = await new Parser({ customFields: { item: [['media:content', 'mediaContent']] } }).parseString(
      (await get('/feed.xml')).body,
    );
    const rssItem = rss.items.find((i) => i.link === `${siteUrl}/articles/${lead.slug}`) as
      Record<string, unknown> | undefined;
    const content = (rssItem?.mediaContent as { $: Record<string, string> } | undefined)?.$;
    assert.equal(content?.url, videoUrl);
    assert.equal(content?.medium, 'video');
    assert.equal(content?.type, video.mime_type);
    assert.equal(Number(content?.fileSize), video.byte_size);
  });

  it('publishes a JSON Feed 1.1', async () => {
    const res = await get('/feed.json');
    assert.equal(res.headers['content-type'], 'application/feed+json; charset=utf-8');
    const raw = JSON.parse(res.body) as { version: string };
    assert.equal(raw.version, 'https://jsonfeed.org/version/1.1');
    const feed = parseJsonFeed(res.body);
    assert.equal(feed.title, 'The Judean');
    assert.equal(feed.items?.length, demoArticles.length);
    assert.equal(feed.items?.[0]?.url, `${siteUrl}/articles/${lead.slug}`);
    assert.deepEqual(
      feed.items?.[0]?.authors?.map((a) => a.name),
      ['Noa Ben-Ami'],
    );
  });

  it('lists every public page in the sitemaps of sitemap.xml, and only the last two days in the news sitemap', async () => {
    const locs = (xml: string) => [...xml.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1]!);
    const index = (await get('/sitemap.xml')).body;
    assert.match(index, /<sitemapindex /);
    const files = locs(index);
    assert.deepEqual(
      files,
      ['pages', 'articles-1', 'tags-1', 'authors-1', 'news-1'].map((name) => `${siteUrl}/sitemaps/${name}.xml`),
    );
    const sitemap = (
      await Promise.all(
        files.filter((f) => !f.includes('/news-')).map(async (f) => (await get(f.slice(siteUrl.length))).body),
      )
    ).join('');
    for (const a of demoArticles) assert.ok(sitemap.includes(`<loc>${siteUrl}/articles/${a.slug}</loc>`), a.slug);
    assert.ok(sitemap.includes(`<loc>${siteUrl}/tags/diplomacy</loc>`));
    assert.ok(sitemap.includes(`<loc>${siteUrl}/authors/noa-ben-ami</loc>`));
    assert.ok(sitemap.includes(`<loc>${siteUrl}/terms</loc>`));

    assert.deepEqual(locs((await get('/news-sitemap.xml')).body), [`${siteUrl}/sitemaps/news-1.xml`]);
    const news = (await get('/sitemaps/news-1.xml')).body;
    assert.match(news, /xmlns:news="http:\/\/www\.google\.com\/schemas\/sitemap-news\/0\.9"/);
    const inNews = [...news.matchAll(/<loc>http:\/\/gazette\.test\/articles\/([^<]+)<\/loc>/g)].map((m) => m[1]).sort();
    const recent = demoArticles
      .filter((a) => a.hoursAgo <= 48)
      .map((a) => a.slug)
      .sort();
    assert.ok(recent.length >= 2 && recent.length < demoArticles.length, 'the demo spans the window');
    assert.deepEqual(inNews, recent);
    assert.match(
      news,
      /<news:publication><news:name>The Judean<\/news:name><news:language>en<\/news:language><\/news:publication>/,
    );
  });

  it('points robots.txt at the sitemap index', async () => {
    const res = await get('/robots.txt');
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.deepEqual(res.body.match(/^Sitemap: .*$/gm), ['Sitemap: http://gazette.test/sitemap.xml']);
  });
});
