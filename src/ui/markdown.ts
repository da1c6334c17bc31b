import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';

// One Marked instance with our options, not the global singleton another module could reconfigure.
const marked = new Marked({ gfm: true, breaks: false, async: false });

/** Tags and attributes an article body may carry; anything else (script, iframe, on* handlers) is dropped. */
const bodyPolicy: sanitizeHtml.IOptions = {
  allowedTags: [
    'h2', 'h3', 'h4', 'p', 'blockquote', 'ul', 'ol', 'li', 'a', 'strong', 'em', 'b', 'i', 'code', 'pre', 'hr',
    'br', 'figure', 'figcaption', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'sup', 'sub', 'abbr', 'cite', 'q',
    'del', 'ins', 's',
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

/** Renders an article body from Markdown to sanitised HTML. */
export function renderMarkdown(markdown: string): string {
  return sanitizeHtml(marked.parse(markdown) as string, bodyPolicy);
}

/** Renders one line of Markdown (a setting such as the consent label) allowing only emphasis and links. */
export function renderInlineMarkdown(markdown: string): string {
  return sanitizeHtml(marked.parseInline(markdown) as string, {
    allowedTags: ['a', 'em', 'strong'],
    allowedAttributes: { a: ['href'] },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowProtocolRelative: false,
  });
}

/** Plain text of a Markdown document, for descriptions and feeds' summaries. */
export function markdownToText(markdown: string): string {
  return sanitizeHtml(marked.parse(markdown) as string, { allowedTags: [], allowedAttributes: {} })
    .replace(/\s+/g, ' ')
    .trim();
}
