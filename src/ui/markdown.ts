import { randomBytes } from 'node:crypto';
import { Marked, type TokenizerAndRendererExtension } from 'marked';
import sanitizeHtml from 'sanitize-html';
import { type CardKind, cardStart, matchCard } from './article-cards.ts';
import { renderCard } from './markdown-cards.ts';

// One Marked instance with our options, not the global singleton another module could reconfigure.
const marked = new Marked({ gfm: true, breaks: false, async: false });

/** The cards of the body being rendered, by placeholder number (rendering is synchronous: one at a time). */
let pendingCards: { kind: CardKind; body: string }[] = [];

/**
 * A card (article-cards.ts) becomes a placeholder paragraph holding a random per-process marker and its
 * number; after the body is sanitised, each placeholder is replaced by the card's own markup, which
 * markdown-cards.ts builds safely. So the body's allow-list stays as narrow as it was (no `<video>`, no
 * `srcset` in hand-written HTML), and no text in a body can forge a card's place: it cannot know the marker.
 */
const cardMarker = `gazette-card-${randomBytes(12).toString('hex')}`;
const cardExtension: TokenizerAndRendererExtension = {
  name: 'gazetteCard',
  level: 'block',
  start: cardStart,
  tokenizer(src) {
    const card = matchCard(src);
    return card ? { type: 'gazetteCard', raw: card.raw, kind: card.kind, body: card.body } : undefined;
  },
  renderer(token) {
    pendingCards.push({ kind: token.kind as CardKind, body: String(token.body) });
    return `<p>${cardMarker}-${pendingCards.length - 1}</p>\n`;
  },
};
marked.use({ extensions: [cardExtension] });

/** Tags and attributes an article body may carry; anything else (script, iframe, on* handlers) is dropped. */
const bodyPolicy: sanitizeHtml.IOptions = {
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
    'thead',
    'tbody',
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
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel'],
    img: ['src', 'alt', 'title', 'width', 'height', 'loading'],
    abbr: ['title'],
    th: ['scope'],
    td: ['colspan', 'rowspan'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  // A level-1 heading belongs to the page's headline alone; demote any in the body.
  transformTags: { h1: 'h2' },
};

/**
 * Renders an article body from Markdown to sanitised HTML, its cards included. `lang` is the language of a
 * video card's captions when the card does not say (the publication's locale).
 */
export function renderMarkdown(markdown: string, options: { lang?: string } = {}): string {
  pendingCards = [];
  try {
    const body = sanitizeHtml(marked.parse(markdown) as string, bodyPolicy);
    if (pendingCards.length === 0) return body;
    const cards = pendingCards;
    return body.replace(new RegExp(`<p>${cardMarker}-(\\d+)</p>`, 'g'), (_, n: string) => {
      const card = cards[Number(n)];
      return card ? renderCard(card.kind, card.body, { lang: options.lang ?? 'en' }) : '';
    });
  } finally {
    pendingCards = [];
  }
}

/** A card of a body as the renderer reads it; `topLevel` ones can be rewritten by `rewriteCards`. */
export interface BodyCard {
  kind: CardKind;
  body: string;
  topLevel: boolean;
}

/** Every card of a body, nested ones (in a quote or a list) included, in order. */
export function findCards(markdown: string): BodyCard[] {
  const cards: BodyCard[] = [];
  const top = new Set(marked.lexer(markdown));
  void marked.walkTokens([...top], (token) => {
    if (token.type === 'gazetteCard')
      cards.push({ kind: token.kind as CardKind, body: String(token.body), topLevel: top.has(token) });
  });
  return cards;
}

/**
 * The body with each top-level card's text replaced by `replace(card)` (a whole card, fences included), the
 * rest kept byte for byte; nested cards stay as written.
 */
export function rewriteCards(markdown: string, replace: (card: BodyCard) => string): string {
  const tokens = marked.lexer(markdown);
  if (tokens.map((t) => t.raw).join('') !== markdown) return markdown; // never lose text: leave it as written
  return tokens
    .map((token) => {
      if (token.type !== 'gazetteCard') return token.raw;
      const trailing = /\n*$/.exec(token.raw)?.[0] ?? '';
      return replace({ kind: token.kind as CardKind, body: String(token.body), topLevel: true }) + trailing;
    })
    .join('');
}

/**
 * Renders one line of Markdown (a setting such as the consent label) allowing only emphasis and links. Such
 * lines are few and shown on every page, so each rendering is kept (a hundred at most).
 */
export function renderInlineMarkdown(markdown: string): string {
  let rendered = inlineRenderings.get(markdown);
  if (rendered === undefined) {
    rendered = sanitizeHtml(marked.parseInline(markdown) as string, {
      allowedTags: ['a', 'em', 'strong'],
      allowedAttributes: { a: ['href'] },
      allowedSchemes: ['http', 'https', 'mailto'],
      allowProtocolRelative: false,
    });
    if (inlineRenderings.size >= 100) inlineRenderings.clear();
    inlineRenderings.set(markdown, rendered);
  }
  return rendered;
}

const inlineRenderings = new Map<string, string>();

/** Plain text of a Markdown document, for descriptions and feeds' summaries. */
export function markdownToText(markdown: string): string {
  // A video card's fallback link ("Download the video") is for old browsers, not part of the text.
  return sanitizeHtml(renderMarkdown(markdown), {
    allowedTags: [],
    allowedAttributes: {},
    nonTextTags: ['style', 'script', 'textarea', 'option', 'noscript', 'video'],
  })
    .replace(/\s+/g, ' ')
    .trim();
}
