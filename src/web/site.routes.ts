import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/index.ts';
import { AppError } from '../errors.ts';
import { listAuthorsWithArticles, listPublishedArticles, listTagsInUse } from '../modules/articles/articles.repository.ts';
import { getAuthor, getPublishedArticle, getPublishedPage, getTag, hydrateArticles } from '../modules/articles/articles.service.ts';
import { getLegalDocument } from '../modules/legal/legal.service.ts';
import type { LegalKind } from '../modules/legal/legal.table.ts';
import { feedContentTypes, type FeedFormat, renderFeed } from './feeds.ts';
import { sendNegotiated } from './http-negotiation.ts';
import type { PageCache } from './page-cache.ts';
import { loadSiteContext } from './site-context.ts';
import { renderNewsSitemap, renderSitemap } from './sitemaps.ts';
import type { StaticAssets } from './static-assets.ts';
import { archivePage, articlePage, homePage, legalPage } from './templates/pages.ts';

export interface SiteRoutesDeps {
  db: Db;
  siteUrl: string;
  pages: PageCache;
  assets: StaticAssets;
  /** The clock, so tests can place "now" (the news sitemap's two days). */
  now: () => Date;
}

/** Slugs are lowercase words joined by hyphens; anything else cannot name a page. */
const slugSchema = z.string().max(200).regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
const pageNumberSchema = z.string().regex(/^[1-9]\d{0,5}$/).transform(Number);
const legalQuerySchema = z.object({ version: z.string().regex(/^[1-9]\d{0,5}$/).transform(Number).optional() });

const htmlType = 'text/html; charset=utf-8';
const feedLimit = 20;
const newsSitemapWindowMs = 2 * 24 * 3600_000;

function parseOr404<T>(schema: z.ZodType<T, string>, value: string | undefined): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('page.not_found');
  return parsed.data;
}

/** The reader's site: home, articles, tags, authors, legal documents, feeds, sitemaps, robots.txt. */
export function siteRoutes(app: FastifyInstance, deps: SiteRoutesDeps): void {
  const { db, pages } = deps;
  const context = () => loadSiteContext(db, deps.siteUrl, deps.assets, deps.now());
  const html = (request: FastifyRequest, reply: FastifyReply, key: string, render: () => Promise<string>) =>
    pages.serve(request, reply, key, async () => ({ body: await render(), contentType: htmlType }));

  const home = async (request: FastifyRequest, reply: FastifyReply, page: number) =>
    html(request, reply, `home:${page}`, async () => homePage(await context(), await getPublishedPage(db, {}, page)));
  app.get('/', (request, reply) => home(request, reply, 1));
  app.get<{ Params: { page: string } }>('/page/:page', (request, reply) => home(request, reply, parseOr404(pageNumberSchema, request.params.page)));

  app.get<{ Params: { slug: string } }>('/articles/:slug', async (request, reply) => {
    const slug = parseOr404(slugSchema, request.params.slug);
    const key = `article:${slug}`;
    return pages.serve(request, reply, key, async () => {
      const found = await getPublishedArticle(db, slug);
      if ('redirectTo' in found) throw new RedirectSignal(`/articles/${found.redirectTo}`);
      return { body: articlePage(await context(), found.article), contentType: htmlType };
    });
  });

  // Tag and author archives: the same listing, narrowed by one or the other.
  const archives = {
    tags: async (slug: string, page: number) => {
      const tag = await getTag(db, slug);
      return archivePage(await context(), { kind: 'tag', tag }, await getPublishedPage(db, { tagId: tag.id }, page));
    },
    authors: async (slug: string, page: number) => {
      const author = await getAuthor(db, slug);
      return archivePage(await context(), { kind: 'author', author }, await getPublishedPage(db, { authorId: author.id }, page));
    },
  };
  for (const [section, render] of Object.entries(archives)) {
    const archive = (request: FastifyRequest, reply: FastifyReply, slugParam: string, page: number) => {
      const slug = parseOr404(slugSchema, slugParam);
      return html(request, reply, `${section}:${slug}:${page}`, () => render(slug, page));
    };
    app.get<{ Params: { slug: string } }>(`/${section}/:slug`, (request, reply) => archive(request, reply, request.params.slug, 1));
    app.get<{ Params: { slug: string; page: string } }>(`/${section}/:slug/page/:page`, (request, reply) =>
      archive(request, reply, request.params.slug, parseOr404(pageNumberSchema, request.params.page)),
    );
  }

  for (const kind of ['terms', 'privacy'] as const satisfies LegalKind[]) {
    app.get(`/${kind}`, async (request, reply) => {
      const query = legalQuerySchema.safeParse(request.query);
      if (!query.success) throw new AppError('request.bad_query', 'The version must be a whole number, such as ?version=1.');
      const version = query.data.version;
      return html(request, reply, `legal:${kind}:${version ?? 'current'}`, async () => {
        const [doc, current] = await Promise.all([getLegalDocument(db, kind, version), getLegalDocument(db, kind)]);
        return legalPage(await context(), doc, `/${kind}`, doc.version === current.version);
      });
    });
  }

  const feed = (format: FeedFormat) => async (request: FastifyRequest, reply: FastifyReply) =>
    pages.serve(request, reply, `feed:${format}`, async () => {
      const articles = await hydrateArticles(db, await listPublishedArticles(db, {}, feedLimit, 0));
      return { body: await renderFeed(format, await context(), articles), contentType: feedContentTypes[format] };
    });
  app.get('/feed.xml', feed('rss'));
  app.get('/atom.xml', feed('atom'));
  app.get('/feed.json', feed('json'));
  app.get('/rss', (_request, reply) => reply.redirect('/feed.xml', 301));

  app.get('/sitemap.xml', (request, reply) =>
    pages.serve(request, reply, 'sitemap', async () => {
      const [rows, tags, authors] = await Promise.all([listPublishedArticles(db, {}, 50_000, 0), listTagsInUse(db), listAuthorsWithArticles(db)]);
      const body = await renderSitemap(await context(), await hydrateArticles(db, rows), tags, authors);
      return { body, contentType: 'application/xml; charset=utf-8' };
    }),
  );
  app.get('/news-sitemap.xml', (request, reply) =>
    // Keyed by the hour, so that articles age out of the two-day window without an edit.
    pages.serve(request, reply, `news-sitemap:${Math.floor(deps.now().getTime() / 3600_000)}`, async () => {
      const since = new Date(deps.now().getTime() - newsSitemapWindowMs).toISOString();
      const rows = await listPublishedArticles(db, { since }, 1000, 0);
      return { body: await renderNewsSitemap(await context(), await hydrateArticles(db, rows)), contentType: 'application/xml; charset=utf-8' };
    }),
  );
  app.get('/robots.txt', (request, reply) =>
    pages.serve(request, reply, 'robots', () =>
      Promise.resolve({
        body: `User-agent: *\nAllow: /\nDisallow: /newsroom/\n\nSitemap: ${deps.siteUrl}/sitemap.xml\nSitemap: ${deps.siteUrl}/news-sitemap.xml\n`,
        contentType: 'text/plain; charset=utf-8',
      }),
    ),
  );

  app.route<{ Params: { name: string } }>({
    method: ['GET', 'HEAD'],
    url: '/assets/:name',
    handler: (request, reply) => {
      const asset = deps.assets.get(request.params.name);
      if (!asset) throw new AppError('page.not_found');
      reply.header('content-type', asset.contentType).header('cache-control', 'public, max-age=31536000, immutable');
      return sendNegotiated(request, reply, asset, asset.etag);
    },
  });
}

/** Thrown from inside a cached render when an old slug must redirect; never cached. */
export class RedirectSignal extends Error {
  readonly location: string;
  constructor(location: string) {
    super(`redirect to ${location}`);
    this.location = location;
  }
}
