import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import GhostContentAPI from '@tryghost/content-api';
import { runGazette } from '../../test/helpers/gazette-process.ts';
import { createTestSite, type TestSite } from '../../test/helpers/site.ts';
import { newArticleRow } from '../modules/articles/articles.fixtures.ts';

interface Post {
  id: string;
  slug: string;
  title: string;
  html?: string;
  plaintext?: string;
  published_at: string;
  url: string;
  tags?: { slug: string }[];
  authors?: { slug: string }[];
  primary_author?: { slug: string } | null;
  primary_tag?: { slug: string } | null;
}
interface Meta {
  pagination: { page: number; limit: number; pages: number; total: number; next: number | null; prev: number | null };
}
type Browse<T> = T[] & { meta: Meta };

/**
 * Ghost's official Content API client (@tryghost/content-api) against a Gazette listening on a real port,
 * with keys made by `gazette integration add`: what a Ghost theme or a front-end starter does.
 */
describe('the Ghost Content API with the official client', () => {
  let site: TestSite;
  let url: string;
  let key: string;
  let api: ReturnType<typeof GhostContentAPI>;
  const env = () => ({ DATA_DIR: site.config.dataDir, SITE_URL: 'http://gazette.test', SEED_DEMO: 'false' });

  before(async () => {
    site = await createTestSite();
    // More posts than one capped page holds, so that `limit=all` and the walk through pages mean something.
    const at = Date.parse('2020-01-01T00:00:00Z');
    for (let i = 0; i < 110; i++) {
      await site.db
        .insertInto('articles')
        .values(
          newArticleRow(
            { slug: `archive-${i}`, title: `Archive piece ${i}`, body_markdown: `Paragraph **${i}**.` },
            new Date(at + i * 60_000).toISOString(),
          ),
        )
        .execute();
    }
    await site.db
      .insertInto('articles')
      .values(newArticleRow({ slug: 'still-a-draft', title: 'Draft', status: 'draft' }, new Date().toISOString()))
      .execute();
    url = await site.listen();
    const added = await runGazette(['integration', 'add', 'Front-end starter'], env());
    assert.equal(added.code, 0, added.output);
    key = /^Content API key: ([0-9a-f]{26})$/m.exec(added.stdout)?.[1] ?? '';
    assert.ok(key, added.stdout);
    assert.match(added.stdout, /^Admin API key: [0-9a-f]{24}:[0-9a-f]{64}$/m);
    const stored = await site.db.selectFrom('integrations').selectAll().executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(stored).includes(key), 'only a hash of the Content API key is stored');
    api = GhostContentAPI({ url, key, version: 'v5.0' });
  });
  after(() => site.close());

  const published = async () =>
    (
      await site.db
        .selectFrom('articles')
        .select(['id', 'slug'])
        .where('status', '=', 'published')
        .orderBy('published_at', 'desc')
        .orderBy('id', 'desc')
        .execute()
    ).map((r) => String(r.id));

  it('browses posts with authors and tags included, newest first, in Ghost’s envelope', async () => {
    const posts = (await api.posts.browse({ limit: 5, include: 'authors,tags' })) as Browse<Post>;
    assert.equal(posts.length, 5);
    const all = await published();
    assert.deepEqual(
      posts.map((p) => p.id),
      all.slice(0, 5),
    );
    assert.deepEqual(posts.meta.pagination, {
      page: 1,
      limit: 5,
      pages: Math.ceil(all.length / 5),
      total: all.length,
      next: 2,
      prev: null,
    });
    const withByline = posts.find((p) => (p.authors?.length ?? 0) > 0);
    assert.ok(withByline, 'the demo posts have bylines');
    assert.equal(withByline.primary_author?.slug, withByline.authors?.[0]?.slug);
    assert.ok(
      posts.every(
        (p) => Array.isArray(p.tags) && typeof p.html === 'string' && p.url.startsWith('http://gazette.test/articles/'),
      ),
    );
  });

  it('walks every page, each post once; limit=all is capped at 100', async () => {
    const seen: string[] = [];
    let page: number | null = 1;
    while (page !== null) {
      const posts = (await api.posts.browse({ limit: 40, page, fields: 'id' })) as Browse<Post>;
      seen.push(...posts.map((p) => p.id));
      assert.deepEqual(Object.keys(posts[0] ?? {}), ['id'], 'fields limits the keys');
      page = posts.meta.pagination.next;
    }
    assert.deepEqual(seen, await published());
    const all = (await api.posts.browse({ limit: 'all' })) as Browse<Post>;
    assert.equal(all.length, 100);
    assert.equal(all.meta.pagination.limit, 100);
    assert.equal(all.meta.pagination.pages, Math.ceil(seen.length / 100));
  });

  it('filters in NQL: tag, tags:[…], author, slug, id, published_at, featured and visibility, with + and ,', async () => {
    const tagged = await site.db
      .selectFrom('article_tags')
      .innerJoin('tags', 'tags.id', 'article_tags.tag_id')
      .innerJoin('articles', 'articles.id', 'article_tags.article_id')
      .select(['tags.slug', 'articles.id'])
      .where('articles.status', '=', 'published')
      .execute();
    const [first, second] = [...new Set(tagged.map((t) => t.slug))];
    assert.ok(first && second, 'the demo has two tags in use');
    const ids = (slugs: string[]) => new Set(tagged.filter((t) => slugs.includes(t.slug)).map((t) => String(t.id)));
    const browse = async (filter: string) =>
      ((await api.posts.browse({ filter, limit: 'all' })) as Browse<Post>).map((p) => p.id);

    assert.deepEqual(new Set(await browse(`tag:${first}`)), ids([first]));
    assert.deepEqual(new Set(await browse(`tags:[${first},${second}]`)), ids([first, second]));
    assert.deepEqual(new Set(await browse(`tag:${first},tag:${second}`)), ids([first, second]));
    const both = [...ids([first])].filter((id) => ids([second]).has(id));
    assert.deepEqual(new Set(await browse(`tag:${first}+tag:${second}`)), new Set(both));
    assert.deepEqual(await browse('slug:archive-7'), [
      String(
        (await site.db.selectFrom('articles').select('id').where('slug', '=', 'archive-7').executeTakeFirstOrThrow())
          .id,
      ),
    ]);
    assert.equal(
      (await browse("published_at:<'2020-01-01 00:10:00'")).length,
      10,
      'the ten archive pieces before 00:10 UTC',
    );
    assert.equal(
      await browse("published_at:>'2020-01-01T00:00:00Z'+slug:-archive-109+slug:~'nothing'").catch(
        (e: Error) => e.name,
      ),
      'BadRequestError',
      '~ is refused',
    );
    assert.equal((await browse('featured:true')).length, 0);
    assert.equal((await browse('visibility:public')).length, 100);
    const author = await site.db.selectFrom('authors').select(['slug', 'id']).orderBy('id').executeTakeFirstOrThrow();
    const byAuthor = await site.db
      .selectFrom('article_authors')
      .innerJoin('articles', 'articles.id', 'article_authors.article_id')
      .select('articles.id')
      .where('author_id', '=', author.id)
      .where('status', '=', 'published')
      .execute();
    assert.deepEqual(new Set(await browse(`author:${author.slug}`)), new Set(byAuthor.map((r) => String(r.id))));
    assert.deepEqual(new Set(await browse(`authors:[${author.slug}]`)), new Set(byAuthor.map((r) => String(r.id))));
    const some = (await published()).slice(0, 2);
    assert.deepEqual(new Set(await browse(`id:[${some.join(',')}]`)), new Set(some));
  });

  it('reads a post by slug and by id, with plaintext; a missing one is Ghost’s NotFoundError', async () => {
    const bySlug = (await api.posts.read({ slug: 'archive-3' }, { formats: 'html,plaintext' })) as Post;
    assert.equal(bySlug.title, 'Archive piece 3');
    assert.match(bySlug.html ?? '', /<strong>3<\/strong>/);
    assert.equal(bySlug.plaintext, 'Paragraph 3.');
    const byId = (await api.posts.read({ id: bySlug.id })) as Post;
    assert.equal(byId.slug, 'archive-3');
    await assert.rejects(
      api.posts.read({ slug: 'no-such-post' }),
      (error: Error & { response?: { status: number } }) => {
        assert.equal(error.name, 'NotFoundError');
        assert.equal(error.response?.status, 404);
        return true;
      },
    );
    await assert.rejects(api.posts.read({ slug: 'still-a-draft' }), { name: 'NotFoundError' });
  });

  it('lists tags and authors with count.posts, reads them by slug, and answers settings', async () => {
    const tags = (await api.tags.browse({ include: 'count.posts', limit: 'all' })) as Browse<{
      slug: string;
      count: { posts: number };
    }>;
    const counts = new Map<string, number>();
    const rows = await site.db
      .selectFrom('article_tags')
      .innerJoin('tags', 'tags.id', 'article_tags.tag_id')
      .innerJoin('articles', 'articles.id', 'article_tags.article_id')
      .select('tags.slug')
      .where('articles.status', '=', 'published')
      .execute();
    for (const r of rows) counts.set(r.slug, (counts.get(r.slug) ?? 0) + 1);
    for (const tag of tags) assert.equal(tag.count.posts, counts.get(tag.slug) ?? 0, tag.slug);
    const [firstTag] = tags;
    assert.ok(firstTag);
    assert.equal(((await api.tags.read({ slug: firstTag.slug })) as { slug: string }).slug, firstTag.slug);
    const filtered = (await api.tags.browse({ filter: `slug:${firstTag.slug}` })) as Browse<{ slug: string }>;
    assert.deepEqual(
      filtered.map((t) => t.slug),
      [firstTag.slug],
    );

    const authors = (await api.authors.browse({ include: 'count.posts' })) as Browse<{
      slug: string;
      count: { posts: number };
    }>;
    assert.ok(authors.length > 0 && authors.every((a) => a.count.posts > 0));
    const [firstAuthor] = authors;
    assert.ok(firstAuthor);
    assert.equal(((await api.authors.read({ slug: firstAuthor.slug })) as { slug: string }).slug, firstAuthor.slug);

    const settings = (await api.settings.browse()) as { title: string; url: string };
    assert.equal(settings.title, 'The Judean');
    assert.equal(settings.url, 'http://gazette.test/');
  });

  it('answers pages, tiers and newsletters empty but well-formed, with CORS open and any Accept-Version', async () => {
    const pages = (await api.pages.browse()) as Browse<unknown>;
    assert.equal(pages.length, 0);
    assert.deepEqual(pages.meta.pagination, { page: 1, limit: 15, pages: 1, total: 0, next: null, prev: null });
    assert.equal(((await api.tiers.browse()) as unknown[]).length, 0);
    assert.equal(((await api.newsletters.browse()) as unknown[]).length, 0);

    const response = await fetch(`${url}/ghost/api/content/recommendations/?key=${key}`, {
      headers: { origin: 'https://theme.example', 'accept-version': 'v4.2' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(((await response.json()) as { recommendations: unknown[] }).recommendations, []);
    const preflight = await fetch(`${url}/ghost/api/content/posts/`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://theme.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'accept-version',
      },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /GET/);
    const bad = await fetch(`${url}/ghost/api/content/posts/?key=${key}&filter=${encodeURIComponent('tag:(')}`);
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { errors: { type: string; message: string }[] };
    assert.equal(body.errors[0]?.type, 'BadRequestError');
    const unknownResource = await fetch(`${url}/ghost/api/content/widgets/?key=${key}`);
    assert.equal(unknownResource.status, 404);
    assert.equal(((await unknownResource.json()) as { errors: { type: string }[] }).errors[0]?.type, 'NotFoundError');
  });

  it('refuses an unknown key and, once revoked, the integration’s key', async () => {
    await assert.rejects(GhostContentAPI({ url, key: 'ab'.repeat(13), version: 'v5.0' }).posts.browse(), {
      name: 'UnauthorizedError',
    });
    const revoked = await runGazette(['integration', 'revoke', '1'], env());
    assert.equal(revoked.code, 0, revoked.output);
    await assert.rejects(api.posts.browse(), (error: Error & { response?: { status: number } }) => {
      assert.equal(error.name, 'UnauthorizedError');
      assert.equal(error.response?.status, 401);
      return true;
    });
    const listed = await runGazette(['integration', 'list'], env());
    assert.match(listed.stdout, /^1\tFront-end starter\tadmin key [0-9a-f]{24}\trevoked /m);
  });
});
