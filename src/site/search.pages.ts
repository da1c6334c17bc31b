import type { ArticleView } from '../modules/articles/index.ts';
import { html, raw } from '../ui/html.ts';
import { formatDate } from '../ui/format.ts';
import { layout, type SiteContext } from '../ui/layout.ts';
import { maxQueryLength, rankingLimit, type SearchResult, type SearchResults } from '../modules/search/index.ts';

const searchHref = (query: string, page: number) =>
  `/search?${new URLSearchParams(page > 1 ? { q: query, page: String(page) } : { q: query }).toString()}`;

function resultItem(result: SearchResult, site: SiteContext) {
  const article: ArticleView = result.article;
  const kicker = article.tags[0];
  return html`<li class="search-result">
  ${kicker ? html`<p class="kicker"><a href="/tags/${kicker.slug}">${kicker.name}</a></p>` : ''}
  <h2 class="search-result__headline"><a href="/articles/${article.slug}">${article.title}</a></h2>
  ${result.snippetHtml ? html`<p class="search-result__snippet">${raw(result.snippetHtml)}</p>` : ''}
  <p class="search-result__meta"><time datetime="${article.publishedAt}">${formatDate(article.publishedAt, site.settings.locale, site.settings.timeZone)}</time></p>
</li>`;
}

/** The search page: the form (pre-filled), the count, the results with highlighted snippets, and paging. Never indexed. */
export function searchPage(site: SiteContext, found: SearchResults): string {
  const { query, total, page, pageCount } = found;
  const count =
    found.order === 'newest'
      ? `More than ${rankingLimit.toLocaleString('en-GB')} results, newest first,`
      : total === 1
        ? '1 result'
        : `${total.toLocaleString('en-GB')} results`;
  const main = html`<header class="archive-header search-header">
  <h1 class="archive-header__title">Search</h1>
  <form class="search-form" role="search" aria-label="Search articles" action="/search" method="get">
    <label class="search-form__label" for="search-query">Search articles</label>
    <div class="search-form__row">
      <input class="search-form__input" id="search-query" name="q" type="search" maxlength="${maxQueryLength}" value="${query}" autocomplete="off">
      <button class="search-form__button" type="submit">Search</button>
    </div>
  </form>
  ${query ? html`<p class="archive-header__count" role="status">${count} for “${query}”${pageCount > 1 ? ` – page ${page} of ${pageCount}` : ''}</p>` : ''}
</header>
${found.results.length > 0 ? html`<ol class="search-results">${found.results.map((r) => resultItem(r, site))}</ol>` : ''}
${query && found.results.length === 0 ? html`<p class="empty">${total > 0 ? 'No more results.' : 'No published articles match. Try fewer or different words.'}</p>` : ''}
${
  pageCount > 1
    ? html`<nav class="pagination" aria-label="Pages">
  ${page > 1 ? html`<a rel="prev" href="${searchHref(query, page - 1)}">← Previous</a>` : html`<span></span>`}
  <span class="pagination__count">Page ${page} of ${pageCount}</span>
  ${page < pageCount ? html`<a rel="next" href="${searchHref(query, page + 1)}">Next →</a>` : html`<span></span>`}
</nav>`
    : ''
}`;
  return layout(
    site,
    { title: 'Search', description: `Search ${site.settings.publicationName}`, path: '/search', robots: 'noindex' },
    main,
  );
}
