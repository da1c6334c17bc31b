import sanitizeHtml from 'sanitize-html';
import {
  type CardImage,
  type CardKind,
  imagesOf,
  mediaPathPattern,
  parseFields,
  recogniseEmbed,
} from './article-cards.ts';
import { html, type SafeHtml } from './html.ts';
import { image, videoFigure } from './media-markup.ts';

// The server's HTML for each card of an article body (article-cards.ts says how a card is written). The
// markup is made here with the escaping html tag, so it is safe whatever a card holds; a field that is not
// what its card allows (an image that is not an uploaded file, an embed that is not a recognised https link)
// leaves that card out rather than showing something else. The editor refuses such a card on save with a
// message (articles.cards.ts); this is the second line, for a body written by hand or by an older version.

/** Tags the raw HTML card may hold: the body's own, plus the structural ones an editor may want. */
export const htmlCardPolicy: sanitizeHtml.IOptions = {
  allowedTags: [
    'h2',
    'h3',
    'h4',
    'p',
    'blockquote',
    'ul',
    'ol',
    'li',
    'a',
    'strong',
    'em',
    'b',
    'i',
    'code',
    'pre',
    'hr',
    'br',
    'figure',
    'figcaption',
    'img',
    'table',
    'caption',
    'thead',
    'tbody',
    'tfoot',
    'tr',
    'th',
    'td',
    'sup',
    'sub',
    'abbr',
    'cite',
    'q',
    'del',
    'ins',
    's',
    'small',
    'mark',
    'dl',
    'dt',
    'dd',
    'div',
    'span',
    'section',
    'aside',
    'details',
    'summary',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel'],
    img: ['src', 'alt', 'title', 'width', 'height', 'loading'],
    abbr: ['title'],
    th: ['scope', 'colspan', 'rowspan'],
    td: ['colspan', 'rowspan'],
    '*': ['class', 'id', 'lang', 'dir'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  transformTags: { h1: 'h2' },
};

/** Images in a card are only stored files: a URL elsewhere would let a body load a third party. */
function isStoredFile(src: string): boolean {
  return mediaPathPattern.test(src);
}

/** `srcset` entries only of stored files with a width (`/media/x.webp 480w, …`); anything else drops it. */
function safeSrcset(srcset: string): string {
  const entries = srcset
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  return entries.length > 0 && entries.every((entry) => /^\/media\/[A-Za-z0-9._~%-]+ [1-9]\d{0,5}w$/.test(entry))
    ? entries.join(', ')
    : '';
}

function cardImage(img: CardImage, sizes: string): SafeHtml {
  const srcset = safeSrcset(img.srcset);
  return image(
    {
      url: img.src,
      width: img.width,
      height: img.height,
      alt: img.decorative ? '' : img.alt,
      ...(srcset ? { srcset } : {}),
    },
    { sizes },
  );
}

function imageCard(body: string): SafeHtml | '' {
  const { images, caption } = imagesOf('image', body);
  const img = images[0];
  if (!img || !isStoredFile(img.src)) return '';
  return html`<figure class="article-figure">${cardImage(img, '(max-width: 48rem) 100vw, 48rem')}${caption ? html`<figcaption>${caption}</figcaption>` : ''}</figure>`;
}

function galleryCard(body: string): SafeHtml | '' {
  const { images, caption } = imagesOf('gallery', body);
  const shown = images.filter((img) => isStoredFile(img.src));
  if (shown.length === 0) return '';
  const sizes = shown.length === 1 ? '(max-width: 48rem) 100vw, 48rem' : '(max-width: 48rem) 50vw, 24rem';
  return html`<figure class="article-gallery article-gallery--${Math.min(shown.length, 4)}"><ul class="article-gallery__images">${shown.map(
    (img) => html`<li>${cardImage(img, sizes)}</li>`,
  )}</ul>${caption ? html`<figcaption>${caption}</figcaption>` : ''}</figure>`;
}

function videoCard(body: string, lang: string): SafeHtml | '' {
  const fields = parseFields(body)[0] ?? {};
  const src = fields.src ?? '';
  const type = fields.type ?? '';
  if (!isStoredFile(src) || !/^video\/[a-z0-9.+-]+$/.test(type)) return '';
  const poster = fields.poster && isStoredFile(fields.poster) ? { url: fields.poster } : null;
  const captions = fields.captions && isStoredFile(fields.captions) ? { url: fields.captions } : null;
  const number = (value: string | undefined) => (value && /^[1-9]\d{0,6}$/.test(value) ? Number(value) : null);
  const captionLang =
    fields['captions-lang'] && /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(fields['captions-lang'])
      ? fields['captions-lang']
      : lang;
  return videoFigure(
    {
      url: src,
      mimeType: type,
      width: number(fields.width),
      height: number(fields.height),
      durationSeconds: number(fields.duration),
      poster,
      captions,
    },
    { caption: fields.caption ?? '', lang: captionLang, className: 'article-video' },
  );
}

function pullQuoteCard(body: string): SafeHtml | '' {
  const fields = parseFields(body)[0] ?? {};
  if (!fields.text) return '';
  return html`<figure class="pull-quote"><blockquote><p>${fields.text}</p></blockquote>${fields.cite ? html`<figcaption>${fields.cite}</figcaption>` : ''}</figure>`;
}

/**
 * A link card: the provider, what the link is and where it goes, as a plain link. Nothing of the third party
 * loads until the reader follows it (no frame, no script, no thumbnail from its servers).
 */
function embedCard(body: string): SafeHtml | '' {
  const fields = parseFields(body)[0] ?? {};
  const link = recogniseEmbed(fields.url ?? '');
  if (!link) return '';
  const label = fields.caption || `${link.what === 'video' ? 'Watch the video' : 'See the post'} on ${link.provider}`;
  return html`<figure class="embed-card embed-card--${link.provider.toLowerCase()}"><a class="embed-card__link" href="${link.url}" rel="noopener noreferrer nofollow external">
  <span class="embed-card__provider">${link.provider}</span>
  <span class="embed-card__label">${label}</span>
  <span class="embed-card__url">${link.url.replace(/^https:\/\/(www\.)?/, '')}</span>
</a></figure>`;
}

/** The HTML of one card, safe to insert as it is. `lang` is the captions' language unless the card says. */
export function renderCard(kind: CardKind, body: string, options: { lang: string }): string {
  switch (kind) {
    case 'image':
      return String(imageCard(body));
    case 'gallery':
      return String(galleryCard(body));
    case 'video':
      return String(videoCard(body, options.lang));
    case 'pullquote':
      return String(pullQuoteCard(body));
    case 'embed':
      return String(embedCard(body));
    case 'html':
      return sanitizeHtml(body, htmlCardPolicy);
  }
}

/** A link the sanitiser keeps: http, https, mailto, or relative (not protocol-relative). */
function safeLink(value: string): boolean {
  const link = value.trim();
  return /^(https?|mailto):/i.test(link) || (!/^[a-z][a-z0-9+.-]*:/i.test(link) && !link.startsWith('//'));
}

/**
 * What of an HTML card's markup readers' pages do not allow (scripts, frames, styles, event handlers, links
 * that are not http, https or mailto), in words for a message; empty when the card is kept as written.
 */
export function htmlCardProblems(body: string): string[] {
  const allowedTags = new Set(htmlCardPolicy.allowedTags || []);
  const problems = new Set<string>();
  sanitizeHtml(body, {
    allowedTags: false,
    allowedAttributes: false,
    allowVulnerableTags: true,
    transformTags: {
      '*': (tagName, attribs) => {
        if (!allowedTags.has(tagName) && tagName !== 'h1') problems.add(`<${tagName}>`);
        for (const [name, value] of Object.entries(attribs)) {
          if (/^on/i.test(name)) problems.add('event handlers (on… attributes)');
          else if (name === 'style') problems.add('style attributes');
          else if ((name === 'href' || name === 'src') && !safeLink(value))
            problems.add(`a ${name} that is not an http, https or mailto link`);
        }
        return { tagName, attribs };
      },
    },
  });
  return [...problems];
}
