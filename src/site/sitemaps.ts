import { Readable } from 'node:stream';
import type { SitemapItemLoose } from 'sitemap';
import type { ArticleView } from '../modules/articles/index.ts';
import type { SiteContext } from '../ui/layout.ts';

/**
 * URLs per numbered sitemap. The protocol allows 50,000 (and 50 MB) per file; 10,000 keeps each file a
 * quick render and a small cache entry, and the index may list 50,000 files.
 */
export const sitemapUrlLimit = 10_000;
/** Google News reads at most 1,000 URLs per news sitemap; more go in further numbered news sitemaps. */
export const newsSitemapUrlLimit = 1_000;

/** The numbered sitemaps: `/sitemaps/<section>-<n>.xml`. */
export type SitemapSection = 'articles' | 'tags' | 'authors' | 'news';

export const sitemapPath = (section: SitemapSection, page: number): string => `/sitemaps/${section}-${page}.xml`;

/** The static pages' sitemap, listed first in the index. */
export const pagesSitemapPath = '/sitemaps/pages.xml';

/** How many numbered files a section of `count` entries takes. */
export const sitemapPageCount = (section: SitemapSection, count: number): number =>
  Math.ceil(count / (section === 'news' ? newsSitemapUrlLimit : sitemapUrlLimit));

// The sitemap library is loaded on the first sitemap request, not at start-up (cold start, issue 5).
async function toXml(hostname: string, items: SitemapItemLoose[], news: boolean): Promise<string> {
  const { SitemapStream, streamToPromise } = await import('sitemap');
  const stream = new SitemapStream({ hostname, xmlns: { news, xhtml: false, image: !news, video: false } });
  return (await streamToPromise(Readable.from(items).pipe(stream))).toString('utf8');
}

/** A sitemap index (sitemaps.org): the absolute URL of each of `paths`. */
export async function renderSitemapIndex(siteUrl: string, paths: readonly string[]): Promise<string> {
  const { SitemapIndexStream, streamToPromise } = await import('sitemap');
  return (
    await streamToPromise(Readable.from(paths.map((p) => ({ url: siteUrl + p }))).pipe(new SitemapIndexStream()))
  ).toString('utf8');
}

/** The home page and the legal documents. */
export async function renderPagesSitemap(site: SiteContext, newestUpdatedAt: string | undefined): Promise<string> {
  const { EnumChangefreq } = await import('sitemap');
  return toXml(
    site.siteUrl,
    [{ url: '/', changefreq: EnumChangefreq.HOURLY, lastmod: newestUpdatedAt }, { url: '/terms' }, { url: '/privacy' }],
    false,
  );
}

/** One numbered file of articles, with their images. */
export async function renderArticlesSitemap(site: SiteContext, articles: readonly ArticleView[]): Promise<string> {
  const items: SitemapItemLoose[] = articles.map((a) => ({
    url: `/articles/${a.slug}`,
    lastmod: a.updatedAt,
    ...(a.image ? { img: [{ url: site.siteUrl + a.image.url, caption: a.image.alt }] } : {}),
  }));
  return toXml(site.siteUrl, items, false);
}

/** One numbered file of tag or author archives. */
export async function renderArchivesSitemap(
  site: SiteContext,
  section: 'tags' | 'authors',
  slugs: readonly string[],
): Promise<string> {
  return toXml(
    site.siteUrl,
    slugs.map((slug) => ({ url: `/${section}/${slug}` })),
    false,
  );
}

/** Google News sitemap: only articles published in the last two days, as Google asks. */
export async function renderNewsSitemap(site: SiteContext, recent: readonly ArticleView[]): Promise<string> {
  const items: SitemapItemLoose[] = recent.map((a) => ({
    url: `/articles/${a.slug}`,
    lastmod: a.updatedAt,
    news: {
      publication: { name: site.settings.publicationName, language: site.settings.locale.slice(0, 2) },
      publication_date: a.publishedAt,
      title: a.title,
      ...(a.tags.length ? { keywords: a.tags.map((t) => t.name).join(', ') } : {}),
    },
  }));
  return toXml(site.siteUrl, items, true);
}
