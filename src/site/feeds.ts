import type { ArticleView } from '../modules/articles/index.ts';
import type { SiteContext } from '../ui/layout.ts';

/** The newest articles as RSS 2.0, Atom 1.0 and JSON Feed 1.1, each with the full body. */
export type FeedFormat = 'rss' | 'atom' | 'json';

export const feedContentTypes: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

/** feedsmith is loaded on the first feed request, not at start-up (it is the costliest import: cold start, issue 5). */
export async function renderFeed(
  format: FeedFormat,
  site: SiteContext,
  articles: readonly ArticleView[],
): Promise<string> {
  const { generateAtomFeed, generateJsonFeed, generateRssFeed } = await import('feedsmith');
  const { settings, siteUrl } = site;
  const home = `${siteUrl}/`;
  const entries = articles.map((a) => ({
    article: a,
    url: `${siteUrl}/articles/${a.slug}`,
    html: a.bodyHtml,
    imageUrl: a.image ? siteUrl + a.image.url : undefined,
    video: a.video
      ? {
          url: siteUrl + a.video.url,
          type: a.video.mimeType,
          length: a.video.byteSize,
          seconds: a.video.durationSeconds,
        }
      : undefined,
  }));
  const updated = articles.reduce(
    (latest, a) => (a.updatedAt > latest ? a.updatedAt : latest),
    articles[0]?.updatedAt ?? site.now.toISOString(),
  );
  switch (format) {
    case 'rss':
      return generateRssFeed({
        title: settings.publicationName,
        link: home,
        description: settings.description,
        language: settings.locale,
        lastBuildDate: new Date(updated),
        generator: 'Gazette',
        atom: { links: [{ href: `${siteUrl}/feed.xml`, rel: 'self', type: 'application/rss+xml' }] },
        items: entries.map(({ article, url, html, imageUrl, video }) => ({
          title: article.title,
          link: url,
          guid: { value: url, isPermaLink: true },
          description: article.standfirst,
          pubDate: new Date(article.publishedAt),
          categories: article.tags.map((t) => ({ name: t.name, domain: `${siteUrl}/tags/${t.slug}` })),
          dc: { creators: article.authors.map((p) => p.name) },
          content: { encoded: html },
          ...(imageUrl && article.image
            ? { enclosures: [{ url: imageUrl, length: article.image.byteSize, type: article.image.mimeType }] }
            : {}),
          // RSS readers take one enclosure per item (the RSS Advisory Board's profile), so the image keeps it
          // and the video goes in Media RSS, which feed readers and aggregators read for video.
          ...(video
            ? {
                media: {
                  contents: [
                    {
                      url: video.url,
                      type: video.type,
                      fileSize: video.length,
                      medium: 'video',
                      ...(video.seconds ? { duration: Math.round(video.seconds) } : {}),
                    },
                  ],
                },
              }
            : {}),
        })),
      });
    case 'atom':
      return generateAtomFeed({
        id: home,
        title: { value: settings.publicationName },
        subtitle: { value: settings.description },
        updated: new Date(updated),
        links: [
          { href: home, rel: 'alternate', type: 'text/html' },
          { href: `${siteUrl}/atom.xml`, rel: 'self', type: 'application/atom+xml' },
        ],
        generator: { text: 'Gazette' },
        entries: entries.map(({ article, url, html, video }) => ({
          id: url,
          title: { value: article.title },
          updated: new Date(article.updatedAt),
          published: new Date(article.publishedAt),
          // RFC 4287 §4.2.7.2: rel="enclosure" is related content that may be large, with its length.
          links: [
            { href: url, rel: 'alternate', type: 'text/html' },
            ...(video ? [{ href: video.url, rel: 'enclosure', type: video.type, length: video.length }] : []),
          ],
          authors: article.authors.map((p) => ({ name: p.name, uri: `${siteUrl}/authors/${p.slug}` })),
          categories: article.tags.map((t) => ({ term: t.slug, label: t.name })),
          summary: { value: article.standfirst },
          content: { value: html, type: 'html' },
        })),
      });
    case 'json':
      return JSON.stringify(
        generateJsonFeed({
          title: settings.publicationName,
          home_page_url: home,
          feed_url: `${siteUrl}/feed.json`,
          description: settings.description,
          language: settings.locale,
          items: entries.map(({ article, url, html, imageUrl, video }) => ({
            id: url,
            url,
            title: article.title,
            summary: article.standfirst,
            content_html: html,
            date_published: new Date(article.publishedAt),
            date_modified: new Date(article.updatedAt),
            authors: article.authors.map((p) => ({ name: p.name, url: `${siteUrl}/authors/${p.slug}` })),
            tags: article.tags.map((t) => t.name),
            ...(imageUrl ? { image: imageUrl } : {}),
            ...(video
              ? {
                  attachments: [
                    {
                      url: video.url,
                      mime_type: video.type,
                      size_in_bytes: video.length,
                      ...(video.seconds ? { duration_in_seconds: video.seconds } : {}),
                    },
                  ],
                }
              : {}),
          })),
        }),
      );
    default: {
      const unknown: never = format;
      throw new Error(`Unknown feed format ${String(unknown)}`);
    }
  }
}
