import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/index.ts';
import {
  type ArticleCondition,
  type ArticleOrderField,
  type ArticleView,
  listAuthorsWithPostCounts,
  listTagsWithPostCounts,
  queryPublishedArticles,
} from '../modules/articles/index.ts';
import type { AuthorWithCount, TagWithCount } from '../modules/articles/index.ts';
import type { IntegrationService } from '../modules/integrations/index.ts';
import { getSiteSettings } from '../modules/settings/index.ts';
import { GhostApiError, ghostErrorBody } from './ghost-errors.ts';
import { matchesFilter, postCondition } from './ghost-filter.ts';

export interface GhostContentDeps {
  db: Db;
  siteUrl: string;
  integrations: IntegrationService;
}

/** `limit=all` and larger numbers are capped here: a page is built in one response, in memory. */
export const maxLimit = 100;
const defaultLimit = 15;

const single = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v.join(',') : v));
const querySchema = z.object({
  key: single.optional(),
  include: single.optional(),
  fields: single.optional(),
  formats: single.optional(),
  limit: single.optional(),
  page: single.optional(),
  order: single.optional(),
  filter: single.optional(),
});
type ApiQuery = z.infer<typeof querySchema>;

const list = (value: string | undefined) =>
  new Set(
    (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );

interface Paging {
  page: number;
  limit: number;
}

function paging(query: ApiQuery): Paging {
  const limitText = query.limit ?? String(defaultLimit);
  const limit = limitText === 'all' ? maxLimit : Number(limitText);
  const page = Number(query.page ?? '1');
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new GhostApiError(
      'ValidationError',
      'Validation error, cannot list resources.',
      'limit must be a positive number or "all".',
    );
  if (!Number.isSafeInteger(page) || page < 1)
    throw new GhostApiError(
      'ValidationError',
      'Validation error, cannot list resources.',
      'page must be a positive number.',
    );
  return { page, limit: Math.min(limit, maxLimit) };
}

function pagination({ page, limit }: Paging, total: number) {
  const pages = Math.max(1, Math.ceil(total / limit));
  return {
    pagination: { page, limit, pages, total, next: page < pages ? page + 1 : null, prev: page > 1 ? page - 1 : null },
  };
}

/** Ghost's Open Graph and Twitter card overrides: Gazette has none (pages use the title and standfirst). */
const noSocialCards = {
  og_image: null,
  og_title: null,
  og_description: null,
  twitter_image: null,
  twitter_title: null,
  twitter_description: null,
};

const orderFields = new Set<ArticleOrderField>(['published_at', 'updated_at', 'created_at', 'title', 'slug', 'id']);

function postOrder(order: string | undefined): { field: ArticleOrderField; direction: 'asc' | 'desc' }[] {
  if (order === undefined || order.trim() === '') return [{ field: 'published_at', direction: 'desc' }];
  return order.split(',').map((part) => {
    const [field = '', direction = 'asc', extra] = part.trim().split(/\s+/);
    const dir = direction.toLowerCase();
    if (!orderFields.has(field as ArticleOrderField) || (dir !== 'asc' && dir !== 'desc') || extra !== undefined) {
      throw new GhostApiError(
        'BadRequestError',
        'Invalid order',
        `Gazette orders posts by ${[...orderFields].join(', ')}, each asc or desc.`,
      );
    }
    return { field: field as ArticleOrderField, direction: dir };
  });
}

/** Only the requested top-level fields (Ghost's `fields`), or everything. */
function pick<T extends Record<string, unknown>>(object: T, fields: Set<string>): Partial<T> {
  if (fields.size === 0) return object;
  return Object.fromEntries(Object.entries(object).filter(([key]) => fields.has(key))) as Partial<T>;
}

/** A stable UUID-shaped id per object (Ghost gives every post a uuid; clients key caches by it). */
function uuidFor(kind: string, id: number): string {
  const h = createHash('sha1').update(`gazette:${kind}:${id}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function plaintext(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, '')
    .replace(/<\/(p|h[1-6]|li|blockquote|figure|pre)>/gi, '\n\n')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(
      /&(amp|lt|gt|quot|#39);/g,
      (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? '',
    )
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * The Ghost Content API, read-only, at `/ghost/api/content/`: posts, pages (none yet), tags, authors and
 * settings with Ghost's envelopes, `meta.pagination`, `include`, `fields`, `formats`, `limit`, `page`, `order`
 * and NQL `filter` (translated to SQL for posts; matched in memory on the bounded lists of tags and authors),
 * Ghost's error shape, any `Accept-Version`, and CORS open to GET. Every request names an integration's
 * Content API key (`?key=`), looked up on each request, so a revoked key stops at once in every process.
 */
export function ghostContentRoutes(app: FastifyInstance, deps: GhostContentDeps): Promise<void> {
  const { db, siteUrl } = deps;
  const absolute = (url: string | null | undefined) => (url ? (url.startsWith('/') ? `${siteUrl}${url}` : url) : null);

  app.addHook('onSend', async (_request, reply) => {
    // Content API keys are public by design (Ghost themes carry them): any origin may read.
    reply.header('access-control-allow-origin', '*');
    reply.header('content-version', 'v5.0');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'public, max-age=0');
  });

  app.setErrorHandler(async (error: unknown, request, reply) => {
    const ghost =
      error instanceof GhostApiError
        ? error
        : (error as { statusCode?: number }).statusCode === 404
          ? new GhostApiError('NotFoundError', 'Resource not found')
          : new GhostApiError('InternalServerError', 'The server has encountered an error.');
    if (ghost.status >= 500) request.log.error({ err: error }, 'Content API request failed');
    return reply
      .code(ghost.status)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(ghostErrorBody(ghost));
  });
  app.setNotFoundHandler((_request, reply) =>
    reply
      .code(404)
      .type('application/json; charset=utf-8')
      .send(
        ghostErrorBody(
          new GhostApiError('NotFoundError', 'Resource not found', 'There is no such Content API resource.'),
        ),
      ),
  );

  app.options('/*', (_request, reply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
      .header('access-control-allow-headers', 'Accept-Version, Content-Type, Authorization')
      .header('access-control-max-age', '86400')
      .send(),
  );

  const parse = async (request: FastifyRequest): Promise<ApiQuery> => {
    const parsed = querySchema.safeParse(request.query ?? {});
    if (!parsed.success) throw new GhostApiError('BadRequestError', 'The query string is not valid.');
    const key = parsed.data.key;
    if (key === undefined || key === '') {
      throw new GhostApiError(
        'UnauthorizedError',
        'Authorization failed',
        'Unable to determine the authenticated integration. Check the supplied Content API Key.',
      );
    }
    if (!(await deps.integrations.forContentKey(key)))
      throw new GhostApiError('UnauthorizedError', 'Unknown Content API Key', 'Unknown Content API Key');
    return parsed.data;
  };

  const tagObject = (t: TagWithCount, include: Set<string>) => ({
    id: String(t.id),
    name: t.name,
    slug: t.slug,
    description: t.description || null,
    feature_image: null,
    visibility: 'public',
    ...noSocialCards,
    meta_title: null,
    meta_description: null,
    codeinjection_head: null,
    codeinjection_foot: null,
    canonical_url: null,
    accent_color: null,
    url: `${siteUrl}/tags/${t.slug}`,
    ...(include.has('count.posts') ? { count: { posts: t.posts } } : {}),
  });
  const authorObject = (a: AuthorWithCount, include: Set<string>) => ({
    id: String(a.id),
    name: a.name,
    slug: a.slug,
    profile_image: absolute(a.image),
    cover_image: null,
    bio: a.bio || null,
    website: null,
    location: null,
    facebook: null,
    twitter: null,
    meta_title: null,
    meta_description: null,
    url: `${siteUrl}/authors/${a.slug}`,
    ...(include.has('count.posts') ? { count: { posts: a.posts } } : {}),
  });

  const postObject = (v: ArticleView, include: Set<string>, formats: Set<string>) => {
    // Rendered and sanitised when the article was saved (articles.body.ts).
    const html = v.bodyHtml;
    const text = plaintext(html);
    const words = text.split(/\s+/).filter(Boolean).length;
    const tags = v.tags.map((t) => tagObject({ ...t, posts: 0 }, new Set()));
    const authors = v.authors.map((a) =>
      authorObject({ id: a.id, slug: a.slug, name: a.name, bio: a.bio, image: null, posts: 0 }, new Set()),
    );
    return {
      id: String(v.id),
      uuid: uuidFor('post', v.id),
      title: v.title,
      slug: v.slug,
      ...(formats.has('html') || formats.size === 0 ? { html } : {}),
      ...(formats.has('plaintext') ? { plaintext: text } : {}),
      comment_id: String(v.id),
      feature_image: absolute(v.image?.url),
      feature_image_alt: v.image?.alt || null,
      feature_image_caption: null,
      featured: false,
      visibility: 'public',
      created_at: v.publishedAt,
      updated_at: v.updatedAt,
      published_at: v.publishedAt,
      custom_excerpt: v.standfirst || null,
      codeinjection_head: null,
      codeinjection_foot: null,
      custom_template: null,
      canonical_url: null,
      ...(include.has('tags') ? { tags, primary_tag: tags[0] ?? null } : {}),
      ...(include.has('authors') ? { authors, primary_author: authors[0] ?? null } : {}),
      url: `${siteUrl}/articles/${v.slug}`,
      excerpt: v.standfirst || text.slice(0, 500),
      reading_time: Math.max(1, Math.round(words / 275)),
      access: true,
      comments: false,
      ...noSocialCards,
      meta_title: v.seoTitle,
      meta_description: v.seoDescription,
      email_subject: null,
      frontmatter: null,
    };
  };

  const browsePosts = async (query: ApiQuery, where: ArticleCondition, paged: Paging) => {
    const { articles, total } = await queryPublishedArticles(db, {
      where,
      order: postOrder(query.order),
      limit: paged.limit,
      offset: (paged.page - 1) * paged.limit,
    });
    const include = list(query.include);
    const formats = list(query.formats);
    const fields = list(query.fields);
    return { posts: articles.map((a) => pick(postObject(a, include, formats), fields)), total };
  };

  app.get('/posts', async (request) => {
    const query = await parse(request);
    const paged = paging(query);
    const { posts, total } = await browsePosts(query, postCondition(query.filter), paged);
    return { posts, meta: pagination(paged, total) };
  });
  const readPost = async (request: FastifyRequest, where: ArticleCondition) => {
    const query = await parse(request);
    const { posts } = await browsePosts(query, where, { page: 1, limit: 1 });
    if (posts.length === 0) throw new GhostApiError('NotFoundError', 'Resource not found', 'Post not found.');
    return { posts };
  };
  app.get<{ Params: { id: string } }>('/posts/:id', (request) =>
    readPost(request, { field: 'id', in: /^\d{1,15}$/.test(request.params.id) ? [Number(request.params.id)] : [] }),
  );
  app.get<{ Params: { slug: string } }>('/posts/slug/:slug', (request) =>
    readPost(request, { field: 'slug', in: [request.params.slug] }),
  );

  /** Tags and authors: small, bounded lists, filtered and paged in memory. */
  const browseList = async <T extends { id: number; slug: string }>(
    request: FastifyRequest,
    load: () => Promise<T[]>,
    shape: (item: T, include: Set<string>) => Record<string, unknown>,
    select?: (item: T) => boolean,
  ) => {
    const query = await parse(request);
    const include = list(query.include);
    const fields = list(query.fields);
    const match = matchesFilter(query.filter);
    const items = (await load())
      .filter((item) => (select ? select(item) : true))
      .map((item) => shape(item, include))
      .filter((object) => match(object));
    return { query, items: items.map((o) => pick(o, fields)) };
  };
  const resource = <T extends { id: number; slug: string }>(
    name: 'tags' | 'authors',
    load: () => Promise<T[]>,
    shape: (item: T, include: Set<string>) => Record<string, unknown>,
  ) => {
    app.get(`/${name}`, async (request) => {
      const { query, items } = await browseList(request, load, shape);
      const paged = paging(query);
      const start = (paged.page - 1) * paged.limit;
      return { [name]: items.slice(start, start + paged.limit), meta: pagination(paged, items.length) };
    });
    const read = async (request: FastifyRequest, select: (item: T) => boolean) => {
      const { items } = await browseList(request, load, shape, select);
      if (items.length === 0)
        throw new GhostApiError(
          'NotFoundError',
          'Resource not found',
          `${name === 'tags' ? 'Tag' : 'Author'} not found.`,
        );
      return { [name]: items.slice(0, 1) };
    };
    app.get<{ Params: { id: string } }>(`/${name}/:id`, (request) =>
      read(request, (item) => String(item.id) === request.params.id),
    );
    app.get<{ Params: { slug: string } }>(`/${name}/slug/:slug`, (request) =>
      read(request, (item) => item.slug === request.params.slug),
    );
  };
  resource('tags', () => listTagsWithPostCounts(db), tagObject);
  resource('authors', () => listAuthorsWithPostCounts(db), authorObject);

  // Gazette has no static pages yet, nor Ghost's paid tiers, newsletters list, offers or recommendations: empty
  // but well-formed answers, so themes and clients that ask keep working.
  for (const name of ['pages', 'tiers', 'newsletters', 'recommendations']) {
    app.get(`/${name}`, async (request) => {
      const paged = paging(await parse(request));
      return { [name]: [], meta: pagination(paged, 0) };
    });
  }
  const none = async (request: FastifyRequest): Promise<never> => {
    await parse(request);
    throw new GhostApiError('NotFoundError', 'Resource not found');
  };
  app.get('/pages/:id', none);
  app.get('/pages/slug/:slug', none);
  app.get('/offers/:id', none);

  app.get('/settings', async (request) => {
    await parse(request);
    const s = await getSiteSettings(db);
    return {
      settings: {
        title: s.publicationName,
        description: s.description,
        logo: absolute(s.logoUrl),
        icon: null,
        accent_color: null,
        cover_image: null,
        facebook: null,
        twitter: null,
        lang: s.locale,
        locale: s.locale,
        timezone: s.timeZone,
        codeinjection_head: null,
        codeinjection_foot: null,
        navigation: [{ label: 'Home', url: '/' }],
        secondary_navigation: [],
        meta_title: null,
        meta_description: null,
        ...noSocialCards,
        members_support_address: null,
        url: `${siteUrl}/`,
      },
      meta: {},
    };
  });
  return Promise.resolve();
}
