import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/index.ts';
import { AppError } from '../errors.ts';
import {
  countPublishedArticles,
  listAuthorsWithArticles,
  listPublishedArticles,
  listTagsInUse,
} from '../modules/articles/index.ts';
import { getAuthor, getPublishedArticle, getTag, hydrateArticles } from '../modules/articles/index.ts';
import type { ArchiveIndex } from '../modules/articles/index.ts';
import { getLegalDocument } from '../modules/legal/index.ts';
import type { LegalKind } from '../modules/legal/index.ts';
import { feedContentTypes, type FeedFormat, renderFeed } from './feeds.ts';
import { sendNegotiated } from '../http/negotiation.ts';
import type { PageCache } from '../http/page-cache.ts';
import type { SiteContextSource } from './site-context.ts';
import {
  newsSitemapUrlLimit,
  pagesSitemapPath,
  renderArchivesSitemap,
  renderArticlesSitemap,
  renderNewsSitemap,
  renderPagesSitemap,
  renderSitemapIndex,
  type SitemapSection,
  sitemapPageCount,
  sitemapPath,
  sitemapUrlLimit,
} from './sitemaps.ts';
import type { StaticAssets } from '../ui/static-assets.ts';
import { archivePage, articlePage, homePage, legalPage } from './site.pages.ts';

export interface SiteRoutesDeps {
  db: Db;
  siteUrl: string;
  pages: PageCache;
  /** The home page's and each tag's and author's listing, paged without OFFSET. */
  archive: ArchiveIndex;
  /** Settings and sections, kept until content changes. */
  contexts: SiteContextSource;
  assets: StaticAssets;
  /** The clock, so tests can place "now" (the news sitemap's two days). */
  now: () => Date;
}

/** Slugs are lowercase words joined by hyphens; anything else cannot name a page. */
const slugSchema = z
  .string()
  .max(200)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
const pageNumberSchema = z
  .string()
  .regex(/^[1-9]\d{0,5}$/)
  .transform(Number);
const legalQuerySchema = z.object({
  version: z
    .string()
    .regex(/^[1-9]\d{0,5}$/)
    .transform(Number)
    .optional(),
});
/** `articles-3.xml`: a section and a page number. */
const numberedSitemapSchema = z
  .string()
  .regex(/^(articles|tags|authors|news)-([1-9]\d{0,5})\.xml$/)
  .transform((name) => {
    const [, section, page] = /^(\w+)-(\d+)\.xml$/.exec(name) ?? [];
    return { section: section as SitemapSection, page: Number(page) };
  });
const xmlType = 'application/xml; charset=utf-8';

const htmlType = 'text/html; charset=utf-8';
const feedLimit = 20;
const newsSitemapWindowMs = 2 * 24 * 3600_000;

function parseOr404<T>(schema: z.ZodType<T, string>, value: string | undefined): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('page.not_found');
  return parsed.data;
}

/** The reader's site: home, articles, tags, authors, legal documents, feeds, sitemaps, robots.txt. */
export function siteRoutes(app: FastifyInstance, deps: SiteRoutesDeps): Promise<void> {
  const { db, pages, archive } = deps;
  const context = () => deps.contexts.load(deps.now());
  const html = (request: FastifyRequest, reply: FastifyReply, key: string, render: () => Promise<string>) =>
    pages.serve(request, reply, key, async () => ({ body: await render(), contentType: htmlType }));

  const home = async (request: FastifyRequest, reply: FastifyReply, page: number) =>
    html(request, reply, `home:${page}`, async () => homePage(await context(), await archive.page({}, page)));
  app.get('/', (request, reply) => home(request, reply, 1));
  app.get<{ Params: { page: string } }>('/page/:page', (request, reply) =>
    home(request, reply, parseOr404(pageNumberSchema, request.params.page)),
  );

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
      return archivePage(await context(), { kind: 'tag', tag }, await archive.page({ tagId: tag.id }, page));
    },
    authors: async (slug: string, page: number) => {
      const author = await getAuthor(db, slug);
      return archivePage(
        await context(),
        { kind: 'author', author },
        await archive.page({ authorId: author.id }, page),
      );
    },
  };
  for (const [section, render] of Object.entries(archives)) {
    const archive = (request: FastifyRequest, reply: FastifyReply, slugParam: string, page: number) => {
      const slug = parseOr404(slugSchema, slugParam);
      return html(request, reply, `${section}:${slug}:${page}`, () => render(slug, page));
    };
    app.get<{ Params: { slug: string } }>(`/${section}/:slug`, (request, reply) =>
      archive(request, reply, request.params.slug, 1),
    );
    app.get<{ Params: { slug: string; page: string } }>(`/${section}/:slug/page/:page`, (request, reply) =>
      archive(request, reply, request.params.slug, parseOr404(pageNumberSchema, request.params.page)),
    );
  }

  for (const kind of ['terms', 'privacy'] as const satisfies LegalKind[]) {
    app.get(`/${kind}`, async (request, reply) => {
      const query = legalQuerySchema.safeParse(request.query);
      if (!query.success)
        throw new AppError('request.bad_query', 'The version must be a whole number, such as ?version=1.');
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

  // Sitemaps: /sitemap.xml is an index of numbered files, each under the protocol's 50,000 URLs (Google News:
  // 1,000), so that no article is left out however many there are. The news files follow the clock, so the
  // index and the news files are cached by the hour, and articles age out of the two days without an edit.
  const hour = () => Math.floor(deps.now().getTime() / 3600_000);
  const newsSince = () => new Date(deps.now().getTime() - newsSitemapWindowMs).toISOString();
  const sitemapCounts = async () => {
    const [articles, tags, authors, news] = await Promise.all([
      countPublishedArticles(db, {}),
      listTagsInUse(db),
      listAuthorsWithArticles(db),
      countPublishedArticles(db, { since: newsSince() }),
    ]);
    return { articles, tags: tags.length, authors: authors.length, news };
  };
  const numberedPaths = (section: SitemapSection, count: number) =>
    Array.from({ length: sitemapPageCount(section, count) }, (_, i) => sitemapPath(section, i + 1));
  const xml = (request: FastifyRequest, reply: FastifyReply, key: string, render: () => Promise<string>) =>
    pages.serve(request, reply, key, async () => ({ body: await render(), contentType: xmlType }));

  app.get('/sitemap.xml', (request, reply) =>
    xml(request, reply, `sitemap:${hour()}`, async () => {
      const counts = await sitemapCounts();
      const sections = ['articles', 'tags', 'authors', 'news'] as const;
      return renderSitemapIndex(deps.siteUrl, [
        pagesSitemapPath,
        ...sections.flatMap((section) => numberedPaths(section, counts[section])),
      ]);
    }),
  );
  // Kept for Search Console entries made when it was one file: the news files only.
  app.get('/news-sitemap.xml', (request, reply) =>
    xml(request, reply, `news-sitemap:${hour()}`, async () =>
      renderSitemapIndex(deps.siteUrl, numberedPaths('news', (await sitemapCounts()).news)),
    ),
  );
  app.get('/sitemaps/pages.xml', (request, reply) =>
    xml(request, reply, 'sitemap:pages', async () => {
      const [newest] = await listPublishedArticles(db, {}, 1, 0);
      return renderPagesSitemap(await context(), newest?.updated_at);
    }),
  );
  app.get<{ Params: { name: string } }>('/sitemaps/:name', (request, reply) => {
    const { section, page } = parseOr404(numberedSitemapSchema, request.params.name);
    const key = section === 'news' ? `sitemap:news:${hour()}:${page}` : `sitemap:${section}:${page}`;
    return xml(request, reply, key, async () => {
      const offset = (page - 1) * (section === 'news' ? newsSitemapUrlLimit : sitemapUrlLimit);
      switch (section) {
        case 'articles': {
          const rows = await listPublishedArticles(db, {}, sitemapUrlLimit, offset, 'oldest');
          if (rows.length === 0) throw new AppError('page.not_found');
          return renderArticlesSitemap(await context(), await hydrateArticles(db, rows));
        }
        case 'tags':
        case 'authors': {
          // Both lists are read whole for every page's masthead anyway; a file is a slice of one.
          const all = section === 'tags' ? await listTagsInUse(db) : await listAuthorsWithArticles(db);
          const slugs = all.slice(offset, offset + sitemapUrlLimit).map((row) => row.slug);
          if (slugs.length === 0) throw new AppError('page.not_found');
          return renderArchivesSitemap(await context(), section, slugs);
        }
        case 'news': {
          const rows = await listPublishedArticles(db, { since: newsSince() }, newsSitemapUrlLimit, offset);
          if (rows.length === 0) throw new AppError('page.not_found');
          return renderNewsSitemap(await context(), await hydrateArticles(db, rows));
        }
        default: {
          const unknown: never = section;
          throw new Error(`Unknown sitemap section ${String(unknown)}`);
        }
      }
    });
  });
  app.get('/robots.txt', (request, reply) =>
    pages.serve(request, reply, 'robots', () =>
      Promise.resolve({
        // The index lists every sitemap, the news files included.
        body: `User-agent: *\nAllow: /\nDisallow: /newsroom/\n\nSitemap: ${deps.siteUrl}/sitemap.xml\n`,
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
  return Promise.resolve();
}

/** Thrown from inside a cached render when an old slug must redirect; never cached. */
export class RedirectSignal extends Error {
  readonly location: string;
  constructor(location: string) {
    super(`redirect to ${location}`);
    this.location = location;
  }
}
