import type { ArticleView } from '../modules/articles/index.ts';
import { html, type SafeHtml } from '../ui/html.ts';
import { image } from '../ui/components.ts';
import { clockDuration, formatDate } from '../ui/format.ts';
import type { PublicationSettings } from '../ui/layout.ts';

/** Bylines, each linking to its author page. */
export function bylines(article: ArticleView): SafeHtml {
  const links = article.authors.map((a) => html`<a href="/authors/${a.slug}" rel="author">${a.name}</a>`);
  if (links.length === 0) return html``;
  const last = links.pop();
  return links.length === 0
    ? html`By ${last}`
    : html`By ${links.map((l, i) => (i === 0 ? l : html`, ${l}`))} and ${last}`;
}

/** A story in a list: kicker, headline, standfirst, byline and time. */
export function storyCard(
  article: ArticleView,
  settings: PublicationSettings,
  options: { lead?: boolean; headingLevel?: 2 | 3 } = {},
): SafeHtml {
  const kicker = article.tags[0];
  const level = options.headingLevel ?? 3;
  const headline = html`<a href="/articles/${article.slug}">${article.title}</a>`;
  return html`<article class="story${options.lead ? ' story--lead' : ''}">
  ${
    article.image
      ? html`<a class="story__media" href="/articles/${article.slug}" tabindex="-1" aria-hidden="true">${image(article.image, { eager: options.lead ?? false, alt: '', sizes: options.lead ? '(max-width: 48rem) 100vw, 50vw' : '(max-width: 40rem) 100vw, 25vw' })}${
          article.video?.durationSeconds
            ? html`<span class="story__duration">▶ ${clockDuration(article.video.durationSeconds)}</span>`
            : ''
        }</a>`
      : ''
  }
  <div class="story__text">
    ${kicker ? html`<p class="kicker"><a href="/tags/${kicker.slug}">${kicker.name}</a></p>` : ''}
    ${level === 2 ? html`<h2 class="story__headline">${headline}</h2>` : html`<h3 class="story__headline">${headline}</h3>`}
    ${article.standfirst ? html`<p class="story__standfirst">${article.standfirst}</p>` : ''}
    <p class="story__meta">${bylines(article)}${article.authors.length ? ' · ' : ''}<time datetime="${article.publishedAt}">${formatDate(
      article.publishedAt,
      settings.locale,
      settings.timeZone,
    )}</time></p>
  </div>
</article>`;
}
