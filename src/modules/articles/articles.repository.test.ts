import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { seedDemoPublication } from '../seed/seed.service.ts';
import { demoArticles, demoTags } from '../seed/demo.content.ts';
import {
  countPublishedArticles,
  findAuthorsOfArticles,
  findPublishedArticleBySlug,
  findRedirectedSlug,
  findTagBySlug,
  hasAnyContent,
  listAuthorsWithArticles,
  listPublishedArticles,
  listTagsInUse,
  storeRenderedBody,
} from './articles.repository.ts';
import { ArchiveIndex } from './articles.archive.ts';
import { type ArticleView, getPublishedArticle } from './articles.service.ts';

describeEachDatabase('articles repository', (dialect) => {
  let t: TestDatabase;
  const now = new Date('2026-11-25T12:00:00.000Z');
  before(async () => {
    t = await createTestDatabase(dialect);
    assert.equal(await hasAnyContent(t.db), false);
    assert.equal(await seedDemoPublication(t.db, { dataDir: t.dataDir, now }), 'seeded');
  });
  after(() => t.drop());

  it('lists published articles newest first, paged', async () => {
    const rows = await listPublishedArticles(t.db, {}, 3, 0);
    const expected = [...demoArticles].sort((a, b) => a.hoursAgo - b.hoursAgo).map((a) => a.slug);
    assert.deepEqual(
      rows.map((r) => r.slug),
      expected.slice(0, 3),
    );
    assert.deepEqual(
      (await listPublishedArticles(t.db, {}, 3, 3)).map((r) => r.slug),
      expected.slice(3, 6),
    );
    assert.equal(await countPublishedArticles(t.db, {}), demoArticles.length);
  });

  it('never lists drafts, scheduled or unpublished articles', async () => {
    const slug = demoArticles[1]!.slug;
    for (const status of ['draft', 'scheduled', 'unpublished'] as const) {
      await t.db.updateTable('articles').set({ status }).where('slug', '=', slug).execute();
      assert.equal(await findPublishedArticleBySlug(t.db, slug), undefined, status);
      assert.equal(await countPublishedArticles(t.db, {}), demoArticles.length - 1, status);
    }
    await t.db.updateTable('articles').set({ status: 'published' }).where('slug', '=', slug).execute();
  });

  it('filters by tag, by author and by time', async () => {
    const tag = (await findTagBySlug(t.db, 'diplomacy'))!;
    const byTag = await listPublishedArticles(t.db, { tagId: tag.id }, 50, 0);
    assert.deepEqual(
      byTag.map((r) => r.slug).sort(),
      demoArticles
        .filter((a) => a.tagSlugs.includes('diplomacy'))
        .map((a) => a.slug)
        .sort(),
    );
    const since = new Date(now.getTime() - 48 * 3600_000).toISOString();
    const recent = await listPublishedArticles(t.db, { since }, 50, 0);
    assert.deepEqual(
      recent.map((r) => r.slug).sort(),
      demoArticles
        .filter((a) => a.hoursAgo <= 48)
        .map((a) => a.slug)
        .sort(),
    );
    const page = await new ArchiveIndex(t.db).page({ tagId: tag.id }, 1);
    assert.equal(page.total, byTag.length);
    assert.ok(page.articles.every((a) => a.tags.some((x) => x.slug === 'diplomacy')));
  });

  it('returns bylines in order and the tags in use with their counts', async () => {
    const lead = (await findPublishedArticleBySlug(t.db, demoArticles[0]!.slug))!;
    const authors = await findAuthorsOfArticles(t.db, [lead.id]);
    assert.deepEqual(
      authors.get(lead.id)?.map((a) => a.slug),
      demoArticles[0]!.authorSlugs,
    );
    const tags = await listTagsInUse(t.db);
    const used = new Set(demoArticles.flatMap((a) => a.tagSlugs));
    assert.deepEqual(
      tags.map((x) => x.slug).sort(),
      demoTags
        .filter((x) => used.has(x.slug))
        .map((x) => x.slug)
        .sort(),
    );
    for (const tag of tags)
      assert.equal(tag.articleCount, demoArticles.filter((a) => a.tagSlugs.includes(tag.slug)).length);
    assert.equal((await listAuthorsWithArticles(t.db)).length, 2);
  });

  it('follows an old slug to the article’s current one', async () => {
    const lead = (await findPublishedArticleBySlug(t.db, demoArticles[0]!.slug))!;
    await t.db.insertInto('article_slug_redirects').values({ old_slug: 'old-headline', article_id: lead.id }).execute();
    assert.equal(await findRedirectedSlug(t.db, 'old-headline'), lead.slug);
    assert.equal(await findRedirectedSlug(t.db, 'never-was'), undefined);
  });

  it('stores a body rendered on first read once, and never over a save made meanwhile', async () => {
    const lead = (await findPublishedArticleBySlug(t.db, demoArticles[0]!.slug))!;
    assert.match(lead.body_html ?? '', /^<p>/, 'the seed stores rendered bodies');
    await t.db.updateTable('articles').set({ body_html: null, body_text: null }).where('id', '=', lead.id).execute();
    const read = (await getPublishedArticle(t.db, lead.slug)) as { article: ArticleView };
    assert.equal(read.article.bodyHtml, lead.body_html);
    const stored = (await findPublishedArticleBySlug(t.db, lead.slug))!;
    assert.equal(stored.body_html, lead.body_html);
    assert.equal(stored.body_text, lead.body_text);
    assert.equal(stored.revision, lead.revision, 'storing the rendering is not an edit');
    // A rendering of an older revision never lands over what a save stored.
    await t.db
      .updateTable('articles')
      .set({ body_html: null, revision: lead.revision + 1 })
      .where('id', '=', lead.id)
      .execute();
    await storeRenderedBody(t.db, lead.id, lead.revision, { body_html: '<p>stale</p>', body_text: 'stale' });
    assert.equal((await findPublishedArticleBySlug(t.db, lead.slug))!.body_html, null);
    await t.db.updateTable('articles').set({ body_html: lead.body_html }).where('id', '=', lead.id).execute();
  });

  it('never seeds a database that already has content', async () => {
    assert.equal(await seedDemoPublication(t.db, { dataDir: t.dataDir, now }), 'skipped_has_content');
    assert.equal(await countPublishedArticles(t.db, {}), demoArticles.length);
  });
});
