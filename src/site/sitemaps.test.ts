import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import sax from 'sax';
import {
  createTestDatabase,
  describeEachDatabase,
  skipInFastRun,
  type TestDatabase,
} from '../../test/helpers/databases.ts';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';
import { newArticleRow } from '../modules/articles/articles.fixtures.ts';
import { findAuthorsOfArticles, findTagsOfArticles } from '../modules/articles/articles.repository.ts';
import { findMediaByIds, findVariantsOfMedia } from '../modules/media/media.repository.ts';

const siteUrl = 'http://gazette.test';
const now = new Date('2026-12-04T12:00:00.000Z');
const articleCount = 60_000;
/** The newest articles, a minute apart, fall in the news sitemap's two days. */
const recentCount = 1_500;
const slugOf = (n: number) => `article-${n}`;
const sitemapNs = 'http://www.sitemaps.org/schemas/sitemap/0.9';

/**
 * Reads a sitemap as a crawler would: a strict, namespace-aware XML parse (it throws on anything not
 * well-formed), the root element with its namespace, and the text of each `<loc>` where the protocol puts
 * it (`<sitemap><loc>` in an index, `<url><loc>` in a urlset).
 */
function readSitemapXml(xml: string): { root: string; locs: string[] } {
  const parser = sax.parser(true, { xmlns: true });
  const path: string[] = [];
  const locs: string[] = [];
  let root = '';
  parser.onopentag = (tag) => {
    const { local, uri } = tag as sax.QualifiedTag;
    if (path.length === 0) root = `${uri} ${local}`;
    if (path.length === 1) assert.equal(uri, sitemapNs, `<${local}> is in the sitemap namespace`);
    path.push(local);
  };
  parser.onclosetag = () => void path.pop();
  parser.ontext = (text) => {
    if (path.length === 3 && path[2] === 'loc' && ['sitemap', 'url'].includes(path[1]!)) locs.push(text);
  };
  parser.write(xml).close();
  return { root, locs };
}

/** 60,000 published articles (the newest 1,500 in the last two days), each bylined, in multi-row INSERTs. */
async function insertArticles(site: TestSite): Promise<void> {
  const oldest = Date.parse('2019-01-01T00:00:00.000Z');
  await site.db.transaction().execute(async (trx) => {
    const author = await trx
      .insertInto('authors')
      .values({
        slug: 'staff',
        name: 'Staff',
        bio: '',
        email: null,
        avatar_media_id: null,
        created_at: now.toISOString(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (let from = 0; from < articleCount; from += 1000) {
      const rows = [];
      for (let n = from; n < from + 1000; n++) {
        const recent = n >= articleCount - recentCount;
        const at = new Date(
          recent ? now.getTime() - (articleCount - n) * 60_000 : oldest + n * 1_800_000,
        ).toISOString();
        rows.push(newArticleRow({ slug: slugOf(n), title: `Article ${n}` }, at));
      }
      await trx.insertInto('articles').values(rows).execute();
    }
    await trx
      .insertInto('article_authors')
      .columns(['article_id', 'author_id', 'position'])
      .expression((eb) =>
        eb.selectFrom('articles').select(['articles.id', eb.val(author.id).as('author_id'), eb.val(0).as('position')]),
      )
      .execute();
  });
}

describeEachDatabase(
  'sitemaps of 60,000 articles',
  (dialect) => {
    let database: TestDatabase;
    let site: TestSite;
    before(async () => {
      database = await createTestDatabase(dialect);
      site = await createTestSite({ seed: false, now: () => now, env: { DATABASE_URL: database.url } });
      await insertArticles(site);
    });
    after(async () => {
      await site.close();
      await database.drop();
    });

    const get = async (url: string) => {
      const res = await site.app.inject({ url });
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`);
      assert.equal(res.headers['content-type'], 'application/xml; charset=utf-8', url);
      return res.body;
    };
    /** A sitemap index: its root element, then the absolute URLs it lists, as a crawler's parser reads them. */
    const readIndex = async (url: string) => {
      const body = await get(url);
      const { root, locs } = readSitemapXml(body);
      assert.equal(root, `${sitemapNs} sitemapindex`, url);
      return locs;
    };
    /** A urlset: at most `limit` URLs (the protocol's 50,000; Google News' 1,000). */
    const readUrlset = async (url: string, limit: number) => {
      const body = await get(url);
      const { root, locs: urls } = readSitemapXml(body);
      assert.equal(root, `${sitemapNs} urlset`, url);
      assert.ok(urls.length > 0 && urls.length <= limit, `${url} lists ${urls.length} URLs`);
      return { body, urls };
    };

    it('lists every article exactly once, in numbered sitemaps under the protocol limit, from an index robots.txt names', async () => {
      const robots = (await site.app.inject({ url: '/robots.txt' })).body;
      assert.match(robots, /^Sitemap: http:\/\/gazette\.test\/sitemap\.xml$/m);

      const files = await readIndex(`/sitemap.xml`);
      assert.ok(
        files.every((f) => f.startsWith(`${siteUrl}/sitemaps/`)),
        files.join(' '),
      );
      const seen = new Map<string, number>();
      for (const file of files.filter((f) => !/\/news-\d+\.xml$/.test(f))) {
        const { urls } = await readUrlset(file.slice(siteUrl.length), 50_000);
        for (const url of urls) seen.set(url, (seen.get(url) ?? 0) + 1);
      }
      const articleUrls = [...seen.keys()].filter((u) => u.startsWith(`${siteUrl}/articles/`));
      assert.equal(articleUrls.length, articleCount);
      for (const n of [0, 1, 29_999, 32_767, 50_000, articleCount - 1])
        assert.equal(seen.get(`${siteUrl}/articles/${slugOf(n)}`), 1, slugOf(n));
      assert.ok(
        [...seen.values()].every((times) => times === 1),
        'no URL is listed twice',
      );
      for (const page of ['/', '/authors/staff', '/terms', '/privacy']) assert.equal(seen.get(siteUrl + page), 1, page);
    });

    it('splits the news sitemap into files of at most 1,000 articles, from the last two days only', async () => {
      const newsFiles = (await readIndex('/sitemap.xml')).filter((f) => /\/news-\d+\.xml$/.test(f));
      assert.deepEqual(await readIndex('/news-sitemap.xml'), newsFiles);
      assert.equal(newsFiles.length, 2);
      const inNews: string[] = [];
      for (const file of newsFiles) {
        const { body, urls } = await readUrlset(file.slice(siteUrl.length), 1_000);
        assert.match(body, /xmlns:news="http:\/\/www\.google\.com\/schemas\/sitemap-news\/0\.9"/);
        inNews.push(...urls);
      }
      const expected = Array.from(
        { length: recentCount },
        (_, i) => `${siteUrl}/articles/${slugOf(articleCount - 1 - i)}`,
      );
      assert.deepEqual(inNews.sort(), expected.sort());
      assert.equal((await site.app.inject({ url: '/sitemaps/news-3.xml' })).statusCode, 404);
      assert.equal((await site.app.inject({ url: '/sitemaps/articles-7.xml' })).statusCode, 404);
      assert.equal((await site.app.inject({ url: '/sitemaps/articles-0.xml' })).statusCode, 404);
    });

    it("reads the bylines, tags and media of all 60,000 articles at once (IN lists are cut below the databases' limits)", async () => {
      const ids = (await site.db.selectFrom('articles').select('id').execute()).map((row) => row.id);
      assert.equal(ids.length, articleCount);
      const [authors, tags, media, variants] = await Promise.all([
        findAuthorsOfArticles(site.db, ids),
        findTagsOfArticles(site.db, ids),
        findMediaByIds(site.db, ids),
        findVariantsOfMedia(site.db, ids),
      ]);
      assert.equal(authors.size, articleCount);
      assert.ok([...authors.values()].every((byline) => byline.length === 1 && byline[0]?.slug === 'staff'));
      assert.equal(tags.size, 0);
      assert.deepEqual([media.length, variants.size], [0, 0]);
    });
  },
  { skip: skipInFastRun },
);
