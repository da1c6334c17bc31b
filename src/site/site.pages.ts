import { html, raw } from '../ui/html.ts';
import type { ArticlePage, ArticleView } from '../modules/articles/index.ts';
import type { AuthorRow, TagRow } from '../modules/articles/index.ts';
import type { LegalDocumentRow } from '../modules/legal/index.ts';
import { renderMarkdown } from '../ui/markdown.ts';
import { articleHead, listingHead } from './structured-data.ts';
import { image, pagination, signupBlock } from '../ui/components.ts';
import { videoFigure } from '../ui/media-markup.ts';
import { bylines, storyCard } from './components.ts';
import { formatDate, formatDateTime, readingMinutes, wasUpdated } from '../ui/format.ts';
import { layout, type SiteContext } from '../ui/layout.ts';

/** Home: the lead story large, then the rest of the page's stories; the sign-up after them. */
export function homePage(site: SiteContext, listing: ArticlePage): string {
  const [lead, ...rest] = listing.page === 1 ? listing.articles : [undefined, ...listing.articles];
  const path = listing.page === 1 ? '/' : `/page/${listing.page}`;
  const main = html`<h1 class="visually-hidden">${site.settings.publicationName}${listing.page > 1 ? ` – page ${listing.page}` : ''}</h1>
${lead ? html`<section class="lead" aria-label="Top story">${storyCard(lead, site.settings, { lead: true, headingLevel: 2 })}</section>` : ''}
${
  rest.length > 0
    ? html`<section class="latest" aria-labelledby="latest-heading"><h2 id="latest-heading" class="section-heading">Latest</h2>
<div class="story-grid">${rest.map((a) => (a ? storyCard(a, site.settings) : ''))}</div></section>`
    : ''
}
${listing.total === 0 ? html`<p class="empty">Nothing has been published yet.</p>` : ''}
${pagination('', listing.page, listing.pageCount)}
${signupBlock(site.settings, { sourcePath: path })}`;
  return layout(
    site,
    {
      title: site.settings.publicationName,
      description: site.settings.description,
      path,
      head: listingHead(site, path, listing),
    },
    main,
  );
}

/** A tag's or an author's archive. */
export function archivePage(
  site: SiteContext,
  subject: { kind: 'tag'; tag: TagRow } | { kind: 'author'; author: AuthorRow },
  listing: ArticlePage,
): string {
  const basePath = subject.kind === 'tag' ? `/tags/${subject.tag.slug}` : `/authors/${subject.author.slug}`;
  const name = subject.kind === 'tag' ? subject.tag.name : subject.author.name;
  const description = subject.kind === 'tag' ? subject.tag.description : subject.author.bio;
  const path = listing.page === 1 ? basePath : `${basePath}/page/${listing.page}`;
  const main = html`<header class="archive-header">
  <p class="kicker">${subject.kind === 'tag' ? 'Topic' : 'Author'}</p>
  <h1 class="archive-header__title">${name}</h1>
  ${description ? html`<p class="archive-header__description">${description}</p>` : ''}
  <p class="archive-header__count">${listing.total} ${listing.total === 1 ? 'article' : 'articles'}</p>
</header>
<div class="story-list">${listing.articles.map((a) => storyCard(a, site.settings, { headingLevel: 2 }))}</div>
${listing.total === 0 ? html`<p class="empty">No published articles yet.</p>` : ''}
${pagination(basePath, listing.page, listing.pageCount)}`;
  const title = listing.page > 1 ? `${name} – page ${listing.page}` : name;
  return layout(
    site,
    {
      title,
      description: description || `${name} – ${site.settings.publicationName}`,
      path,
      head: listingHead(site, path, listing),
    },
    main,
  );
}

/** The article page: headline, standfirst, bylines and times, video snippet, body, tags, sign-up. */
export function articlePage(site: SiteContext, article: ArticleView): string {
  const { settings } = site;
  const path = `/articles/${article.slug}`;
  // Rendered and sanitised when the article was saved (articles.body.ts).
  const bodyHtml = raw(article.bodyHtml);
  const updated = wasUpdated(article.publishedAt, article.updatedAt);
  const kicker = article.tags[0];
  const video = article.video;
  const main = html`<article class="article">
  <header class="article__header">
    ${kicker ? html`<p class="kicker"><a href="/tags/${kicker.slug}">${kicker.name}</a></p>` : ''}
    <h1 class="article__headline">${article.title}</h1>
    ${article.standfirst ? html`<p class="article__standfirst">${article.standfirst}</p>` : ''}
    <div class="article__meta">
      ${article.authors.length ? html`<p class="article__byline">${bylines(article)}</p>` : ''}
      <p class="article__times">
        <span>Published <time datetime="${article.publishedAt}">${formatDateTime(article.publishedAt, settings.locale, settings.timeZone)}</time></span>
        ${updated ? html`<span class="article__updated">Updated <time datetime="${article.updatedAt}">${formatDateTime(article.updatedAt, settings.locale, settings.timeZone)}</time></span>` : ''}
        <span>${readingMinutes(article.bodyText)} min read</span>
      </p>
    </div>
  </header>
  ${
    video
      ? videoFigure(video, { caption: article.videoCaption ?? '', lang: settings.locale, className: 'article__video' })
      : article.image
        ? html`<figure class="article__image">${image(article.image, { eager: true })}${article.image.alt ? html`<figcaption>${article.image.alt}</figcaption>` : ''}</figure>`
        : ''
  }
  <div class="article__body prose">${bodyHtml}</div>
  ${
    article.correctionNote
      ? html`<aside class="correction" aria-labelledby="correction-heading"><h2 id="correction-heading">Correction</h2><p>${article.correctionNote}</p></aside>`
      : ''
  }
  ${
    article.tags.length
      ? html`<nav class="article__tags" aria-label="Topics"><ul>${article.tags.map((t) => html`<li><a href="/tags/${t.slug}">${t.name}</a></li>`)}</ul></nav>`
      : ''
  }
  ${
    article.authors.length
      ? html`<section class="article__authors" aria-label="About the authors">${article.authors.map(
          (a) => html`<p><a href="/authors/${a.slug}">${a.name}</a>${a.bio ? html` – ${a.bio}` : ''}</p>`,
        )}</section>`
      : ''
  }
</article>
${signupBlock(settings, { sourcePath: path })}`;
  return layout(
    site,
    {
      title: article.seoTitle ?? article.title,
      description: article.seoDescription ?? (article.standfirst || article.bodyText.slice(0, 160)),
      path,
      head: articleHead(site, article, path),
    },
    main,
  );
}

/** Terms and conditions, or the privacy policy, with its version and date. */
export function legalPage(site: SiteContext, doc: LegalDocumentRow, path: string, isCurrent: boolean): string {
  const main = html`<article class="article legal">
  <header class="article__header">
    <h1 class="article__headline">${doc.title}</h1>
    <p class="article__times">Version ${doc.version}, published <time datetime="${doc.published_at}">${formatDate(
      doc.published_at,
      site.settings.locale,
      site.settings.timeZone,
    )}</time>${isCurrent ? '' : html` – an earlier version; <a href="${path}">read the current one</a>`}</p>
  </header>
  <div class="article__body prose">${raw(renderMarkdown(doc.body_markdown))}</div>
</article>`;
  return layout(
    site,
    { title: doc.title, description: `${doc.title} of ${site.settings.publicationName}`, path },
    main,
  );
}

/** 404, 400, 500…: in the site's look, with a way back, and never a stack trace. */
export function errorPage(site: SiteContext, status: number, message: string): string {
  const heading =
    status === 404 ? 'Page not found' : status >= 500 ? 'Something went wrong' : 'That request could not be handled';
  const main = html`<section class="error-page">
  <p class="error-page__status">Error ${status}</p>
  <h1 class="article__headline">${heading}</h1>
  <p>${message}</p>
  <p><a href="/">Go to the front page</a></p>
</section>`;
  return layout(site, { title: heading, description: message, path: '/', robots: 'noindex' }, main);
}
