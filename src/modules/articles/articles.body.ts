import { markdownToText, renderMarkdown } from '../../ui/markdown.ts';

/**
 * An article body as readers get it, rendered from its Markdown once when the article is saved and stored
 * with it (`articles.body_html`, `body_text`), so that a page render is the template's work alone: Markdown
 * parsing and sanitising cost more than the rest of a cold article page together.
 */
export interface RenderedBody {
  /** Sanitised HTML (ui/markdown.ts's allow-list). */
  body_html: string;
  /** Plain text, whitespace folded: descriptions and reading time. */
  body_text: string;
}

export function renderArticleBody(markdown: string): RenderedBody {
  return { body_html: renderMarkdown(markdown), body_text: markdownToText(markdown) };
}
