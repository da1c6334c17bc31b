import { html, raw, type SafeHtml } from './html.ts';
import type { PublicationSettings } from './layout.ts';
import { renderInlineMarkdown } from './markdown.ts';
import { formatDateTime } from './format.ts';

export { image, type ImageView } from './media-markup.ts';

/**
 * The newsletter sign-up that closes every article (and the home page). It posts without JavaScript;
 * nothing is pre-ticked, and the consent checkbox is required.
 */
export function signupBlock(
  settings: PublicationSettings,
  options: { sourcePath: string; error?: string; email?: string; invalid?: 'email' | 'consent' },
): SafeHtml {
  const errorId = 'signup-error';
  // The field the error is about is the one marked invalid and described by the message.
  const invalidIf = (field: 'email' | 'consent') =>
    options.error && (options.invalid ?? 'email') === field
      ? html` aria-invalid="true" aria-describedby="${errorId}"`
      : '';
  return html`<section class="signup" id="newsletter" aria-labelledby="signup-heading">
  <h2 id="signup-heading" class="signup__heading">${settings.signupHeading}</h2>
  <p class="signup__pitch">${settings.signupPitch}</p>
  <form class="signup__form" method="post" action="/newsletter/subscribe">
    <input type="hidden" name="source" value="${options.sourcePath}">
    <div class="visually-hidden"><label for="signup-website">Leave this field empty</label>
      <input id="signup-website" name="website" type="text" tabindex="-1" autocomplete="off"></div>
    <div class="signup__row">
      <label class="signup__label" for="signup-email">Email address</label>
      <input class="signup__input" id="signup-email" name="email" type="email" required maxlength="254" autocomplete="email" inputmode="email" placeholder="you@example.com"${
        options.email ? html` value="${options.email}"` : ''
      }${invalidIf('email')}>
      <button class="signup__button" type="submit">Sign up</button>
    </div>
    <p class="signup__consent"><input id="signup-consent" name="consent" type="checkbox" value="yes" required${invalidIf('consent')}>
      <label for="signup-consent">${raw(renderInlineMarkdown(settings.consentLabel))}</label></p>
    ${options.error ? html`<p class="signup__error" id="${errorId}" role="alert">${options.error}</p>` : ''}
  </form>
</section>`;
}

/** Previous/next links for a paged listing. */
export function pagination(basePath: string, page: number, pageCount: number): SafeHtml {
  if (pageCount <= 1) return html``;
  const href = (n: number) => (n === 1 ? basePath || '/' : `${basePath}/page/${n}`);
  return html`<nav class="pagination" aria-label="Pages">
  ${page > 1 ? html`<a rel="prev" href="${href(page - 1)}">← Newer</a>` : html`<span></span>`}
  <span class="pagination__count">Page ${page} of ${pageCount}</span>
  ${page < pageCount ? html`<a rel="next" href="${href(page + 1)}">Older →</a>` : html`<span></span>`}
</nav>`;
}

export { formatDateTime };
