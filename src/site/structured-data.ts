import { html, type SafeHtml } from '../ui/html.ts';
import type { ArticlePage, ArticleView } from '../modules/articles/index.ts';
import { isoDuration } from '../ui/format.ts';
import { jsonLdScript, openGraphLocale, type SiteContext } from '../ui/layout.ts';

function publisher(site: SiteContext): Record<string, unknown> {
  return {
    '@type': 'NewsMediaOrganization',
    name: site.settings.publicationName,
    url: `${site.siteUrl}/`,
    ...(site.logo
      ? {
          logo: {
            '@type': 'ImageObject',
            url: site.siteUrl + site.logo.url,
            width: site.logo.width,
            height: site.logo.height,
          },
        }
      : {}),
  };
}

/** schema.org NewsArticle (with its VideoObject), Open Graph and Twitter card tags for an article page. */
export function articleHead(site: SiteContext, article: ArticleView, path: string): SafeHtml {
  const url = site.siteUrl + path;
  const description = article.seoDescription ?? (article.standfirst || article.bodyText.slice(0, 200));
  const imageUrl = article.image ? site.siteUrl + article.image.url : undefined;
  const video = article.video;
  const videoObject = video
    ? {
        '@type': 'VideoObject',
        name: article.videoCaption ?? article.title,
        description: article.videoCaption ?? description,
        thumbnailUrl: video.poster ? [site.siteUrl + video.poster.url] : imageUrl ? [imageUrl] : [],
        uploadDate: video.uploadedAt,
        contentUrl: site.siteUrl + video.url,
        encodingFormat: video.mimeType,
        ...(video.durationSeconds ? { duration: isoDuration(video.durationSeconds) } : {}),
        ...(video.width && video.height ? { width: video.width, height: video.height } : {}),
      }
    : undefined;
  const newsArticle = {
    '@context': 'https://schema.org',
    '@type': 'NewsArticle',
    mainEntityOfPage: { '@type': 'WebPage', '@id': url },
    url,
    headline: article.title.slice(0, 110),
    description,
    datePublished: article.publishedAt,
    dateModified: article.updatedAt,
    author: article.authors.map((a) => ({ '@type': 'Person', name: a.name, url: `${site.siteUrl}/authors/${a.slug}` })),
    publisher: publisher(site),
    // Google asks for 16:9, 4:3 and 1:1 versions of at least 1,200 px: the crops made at upload, then the whole image.
    ...(imageUrl ? { image: [...(article.image?.crops ?? []).map((c) => site.siteUrl + c.url), imageUrl] } : {}),
    ...(article.tags[0] ? { articleSection: article.tags[0].name } : {}),
    ...(article.tags.length ? { keywords: article.tags.map((t) => t.name) } : {}),
    ...(videoObject ? { video: videoObject } : {}),
    ...(article.correctionNote
      ? { correction: { '@type': 'CorrectionComment', text: article.correctionNote, datePublished: article.updatedAt } }
      : {}),
    isAccessibleForFree: true,
  };
  const ogImage = article.image;
  return html`<meta property="og:type" content="article">
<meta property="og:site_name" content="${site.settings.publicationName}">
<meta property="og:title" content="${article.seoTitle ?? article.title}">
<meta property="og:description" content="${description}">
<meta property="og:url" content="${url}">
<meta property="og:locale" content="${openGraphLocale(site.settings.locale)}">
${ogImage ? html`<meta property="og:image" content="${site.siteUrl + ogImage.url}">${ogImage.width ? html`<meta property="og:image:width" content="${ogImage.width}"><meta property="og:image:height" content="${ogImage.height ?? 0}">` : ''}<meta property="og:image:alt" content="${ogImage.alt || article.title}">` : ''}
${video ? html`<meta property="og:video" content="${site.siteUrl + video.url}"><meta property="og:video:type" content="${video.mimeType}">` : ''}
<meta property="article:published_time" content="${article.publishedAt}">
<meta property="article:modified_time" content="${article.updatedAt}">
${article.authors.map((a) => html`<meta property="article:author" content="${site.siteUrl}/authors/${a.slug}">`)}
${article.tags.map((t) => html`<meta property="article:tag" content="${t.name}">`)}
<meta name="twitter:card" content="${ogImage ? 'summary_large_image' : 'summary'}">
<meta name="twitter:title" content="${article.seoTitle ?? article.title}">
<meta name="twitter:description" content="${description}">
${ogImage ? html`<meta name="twitter:image" content="${site.siteUrl + ogImage.url}"><meta name="twitter:image:alt" content="${ogImage.alt || article.title}">` : ''}
${jsonLdScript(newsArticle)}`;
}

/** Prev/next links and Open Graph for a listing page; the home page also says what the site is. */
export function listingHead(site: SiteContext, path: string, listing: ArticlePage): SafeHtml {
  // The listing's own path without its page part; the home page's is '' so that page 2 is `/page/2`.
  const base = path.replace(/\/page\/\d+$/, '').replace(/^\/$/, '');
  const pageHref = (n: number) => site.siteUrl + (n === 1 ? base || '/' : `${base}/page/${n}`);
  const website =
    path === '/'
      ? jsonLdScript({
          '@context': 'https://schema.org',
          '@type': 'WebSite',
          name: site.settings.publicationName,
          url: `${site.siteUrl}/`,
          publisher: publisher(site),
        })
      : null;
  return html`<meta property="og:type" content="website">
<meta property="og:site_name" content="${site.settings.publicationName}">
<meta property="og:title" content="${site.settings.publicationName}">
<meta property="og:description" content="${site.settings.description}">
<meta property="og:url" content="${site.siteUrl + path}">
<meta property="og:locale" content="${openGraphLocale(site.settings.locale)}">
<meta name="twitter:card" content="summary">
${listing.page > 1 ? html`<link rel="prev" href="${pageHref(listing.page - 1)}">` : ''}
${listing.page < listing.pageCount ? html`<link rel="next" href="${pageHref(listing.page + 1)}">` : ''}
${website}`;
}
