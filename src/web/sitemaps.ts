import { Readable } from 'node:stream';
import type { SitemapItemLoose } from 'sitemap';
import type { ArticleView } from '../modules/articles/articles.service.ts';
import type { AuthorRow, TagRow } from '../modules/articles/articles.table.ts';
import type { SiteContext } from './templates/layout.ts';

// The sitemap library is loaded on the first sitemap request, not at start-up (cold start, issue 5).
async function toXml(hostname: string, items: SitemapItemLoose[], news: boolean): Promise<string> {
  const { SitemapStream, streamToPromise } = await import('sitemap');
  const stream = new SitemapStream({ hostname, xmlns: { news, xhtml: false, image: !news, video: false } });
  return (await streamToPromise(Readable.from(items).pipe(stream))).toString('utf8');
}

/** Every public page: home, articles (with their images), tags, authors, legal documents. */
export async function renderSitemap(site: SiteContext, articles: readonly ArticleView[], tags: readonly TagRow[], authors: readonly AuthorRow[]): Promise<string> {
  const { EnumChangefreq } = await import('sitemap');
  const items: SitemapItemLoose[] = [
    { url: '/', changefreq: EnumChangefreq.HOURLY, lastmod: articles[0]?.updatedAt },
    ...articles.map((a) => ({
      url: `/articles/${a.slug}`,
      lastmod: a.updatedAt,
      ...(a.image ? { img: [{ url: site.siteUrl + a.image.url, caption: a.image.alt }] } : {}),
    })),
    ...tags.map((t) => ({ url: `/tags/${t.slug}` })),
    ...authors.map((a) => ({ url: `/authors/${a.slug}` })),
    { url: '/terms' },
    { url: '/privacy' },
  ];
  return toXml(site.siteUrl, items, false);
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
