import { escapeHtml, html, raw } from '../../ui/html.ts';
import { markdownToText } from '../../ui/markdown.ts';
import type { ArticleView } from '../articles/index.ts';

/**
 * Rendering a newsletter issue. An issue is rendered ONCE (HTML and plain text) and stored; the only
 * per-recipient parts are two URLs, left as placeholders and filled at send time by `personalise`, a
 * string join that costs microseconds where a template render would cost milliseconds per reader.
 */
export const unsubscribePlaceholder = '%%GAZETTE_UNSUBSCRIBE_URL%%';
export const managePlaceholder = '%%GAZETTE_MANAGE_URL%%';

export interface ComposeInput {
  publicationName: string;
  newsletterName: string;
  /** The publication's language (settings.locale, e.g. `en` or `de-CH`): the mail's `lang`. */
  language: string;
  /** Public base URL without a trailing slash; every link in a mail is absolute. */
  siteUrl: string;
  articles: readonly ArticleView[];
  subject?: string | undefined;
}

export interface ComposedIssue {
  subject: string;
  html: string;
  text: string;
}

/** The per-recipient URLs substituted into an issue. */
export interface RecipientLinks {
  unsubscribeUrl: string;
  manageUrl: string;
}

// Mail clients ignore <style> blocks unevenly (and strip them when forwarding): every rule is inline.
const font = "font-family:Georgia,'Times New Roman',serif;";
const sans = 'font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;';

/**
 * After the preheader: figure spaces and zero-width joiners, so the inbox's preview line shows the standfirst
 * and then blank, instead of running on into the mail's first visible words.
 */
const preheaderFiller = raw('&#8199;&#847; '.repeat(60));

/**
 * An issue from one or more published articles: the first in full, the others as headline, standfirst and
 * opening paragraph, each with a "Read on the site" link. Table layout, inline CSS, no scripts, 600 px wide
 * at most, readable on a phone (the table is `width:100%` up to that). Subject: the first article's title
 * unless given.
 */
export function composeIssue(input: ComposeInput): ComposedIssue {
  const first = input.articles[0];
  if (!first) throw new Error('An issue needs at least one article');
  const subject = (input.subject ?? first.title).replace(/[\r\n]+/g, ' ').trim();
  const articleUrl = (a: ArticleView) => `${input.siteUrl}/articles/${a.slug}`;

  const sections = input.articles.map((article, index) => {
    const full = index === 0;
    const bodyHtml = full
      ? absolutise(article.bodyHtml, input.siteUrl)
      : firstParagraph(article.bodyHtml, input.siteUrl);
    const image =
      full && article.image && article.image.mimeType.startsWith('image/')
        ? html`<img src="${absoluteUrl(article.image.url, input.siteUrl)}" alt="${article.image.alt}" width="560" style="display:block;width:100%;max-width:560px;height:auto;border:0;margin:0 0 16px">`
        : '';
    const byline =
      article.authors.length > 0
        ? html`<p style="${sans}font-size:13px;color:#555;margin:0 0 12px">By ${article.authors.map((a) => a.name).join(' and ')}</p>`
        : '';
    // The lead story's headline is the mail's one h1 (screen readers navigate by headings); the others are h2.
    const heading = raw(full ? 'h1' : 'h2');
    return html`<tr><td style="padding:24px 20px;border-top:${index === 0 ? '0' : '1px solid #ddd'}">
<${heading} style="${font}font-size:${full ? '26px' : '21px'};line-height:1.25;margin:0 0 8px;color:#111"><a href="${articleUrl(article)}" style="color:#111;text-decoration:none">${article.title}</a></${heading}>
<p style="${font}font-size:17px;line-height:1.45;color:#333;margin:0 0 12px"><em>${article.standfirst}</em></p>
${byline}${image}<div style="${font}font-size:16px;line-height:1.6;color:#222">${raw(styleBody(bodyHtml))}</div>
<p style="${sans}font-size:15px;margin:16px 0 0"><a href="${articleUrl(article)}" style="color:#0b5cad;font-weight:bold">Read on the site →</a></p>
</td></tr>`;
  });

  // The colours are fixed and light (inline, as everything): `color-scheme: light` tells clients that honour
  // it (Apple Mail, iOS) not to invert them. Outlook on Windows (Word's renderer) ignores max-width, so an
  // MSO-only table holds the column at 600 px there; the preheader is the inbox's preview line, hidden
  // everywhere (`mso-hide:all` for Outlook).
  const page = html`<!DOCTYPE html>
<html lang="${input.language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="x-apple-disable-message-reformatting" content=""><meta name="color-scheme" content="light"><meta name="supported-color-schemes" content="light"><title>${subject}</title></head>
<body style="margin:0;padding:0;background:#f3f3f0">
<div style="display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all">${first.standfirst}${preheaderFiller}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f3f0"><tr><td align="center" style="padding:16px 8px">
${raw('<!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->')}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;width:100%;background:#ffffff;border-collapse:collapse">
<tr><td style="padding:20px;border-bottom:3px solid #111;text-align:center"><a href="${input.siteUrl}/" style="${font}font-size:28px;font-weight:bold;color:#111;text-decoration:none">${input.publicationName}</a></td></tr>
${sections}
<tr><td style="padding:20px;border-top:1px solid #ddd;${sans}font-size:13px;line-height:1.5;color:#555;text-align:center">
You receive ${input.newsletterName} from ${input.publicationName} because you signed up and confirmed your address.<br>
<a href="${raw(unsubscribePlaceholder)}" style="color:#555">Unsubscribe</a> · <a href="${raw(managePlaceholder)}" style="color:#555">Manage your subscription</a>
</td></tr>
</table>
${raw('<!--[if mso]></td></tr></table><![endif]-->')}
</td></tr></table>
</body></html>`;

  const textSections = input.articles.map((article, index) => {
    const body =
      index === 0
        ? markdownToParagraphs(article.bodyMarkdown)
        : (markdownToParagraphs(article.bodyMarkdown).split('\n\n')[0] ?? '');
    const byline = article.authors.length > 0 ? `By ${article.authors.map((a) => a.name).join(' and ')}\n\n` : '';
    return `${article.title.toUpperCase()}\n\n${article.standfirst}\n\n${byline}${body}\n\nRead on the site: ${articleUrl(article)}`;
  });
  const text = [
    input.publicationName,
    '='.repeat(Math.min(60, input.publicationName.length)),
    '',
    textSections.join('\n\n' + '-'.repeat(40) + '\n\n'),
    '',
    '--',
    `You receive ${input.newsletterName} from ${input.publicationName} because you signed up and confirmed your address.`,
    `Unsubscribe: ${unsubscribePlaceholder}`,
    `Manage your subscription: ${managePlaceholder}`,
    '',
  ].join('\n');

  return { subject, html: page.value, text };
}

/** A stored issue split at its placeholders, ready to be personalised many times. */
export interface IssueTemplate {
  subject: string;
  htmlParts: string[][];
  textParts: string[][];
}

/** Splits once per issue, so that each recipient costs two joins. */
export function prepareTemplate(issue: ComposedIssue): IssueTemplate {
  const split = (s: string) => s.split(unsubscribePlaceholder).map((part) => part.split(managePlaceholder));
  return { subject: issue.subject, htmlParts: split(issue.html), textParts: split(issue.text) };
}

/** The recipient's copy of an issue: their unsubscribe and manage URLs in place (HTML-escaped in the HTML). */
export function personalise(template: IssueTemplate, links: RecipientLinks): { html: string; text: string } {
  const join = (parts: string[][], unsubscribe: string, manage: string) =>
    parts.map((p) => p.join(manage)).join(unsubscribe);
  return {
    html: join(template.htmlParts, escapeHtml(links.unsubscribeUrl), escapeHtml(links.manageUrl)),
    text: join(template.textParts, links.unsubscribeUrl, links.manageUrl),
  };
}

function absoluteUrl(url: string, siteUrl: string): string {
  return url.startsWith('/') && !url.startsWith('//') ? `${siteUrl}${url}` : url;
}

/** Root-relative links and images in a rendered body point at the site: a mail has no base URL. */
function absolutise(bodyHtml: string, siteUrl: string): string {
  return bodyHtml.replace(/\b(href|src)="\/(?!\/)/g, `$1="${escapeHtml(siteUrl)}/`);
}

/** Inline styles for the few elements a body holds; images never wider than the column. */
function styleBody(bodyHtml: string): string {
  return (
    bodyHtml
      .replace(/<p>/g, '<p style="margin:0 0 14px">')
      .replace(/<h2>/g, `<h2 style="${font}font-size:20px;margin:20px 0 8px">`)
      .replace(/<h3>/g, `<h3 style="${font}font-size:18px;margin:18px 0 6px">`)
      .replace(
        /<blockquote>/g,
        '<blockquote style="margin:0 0 14px;padding-left:12px;border-left:3px solid #ccc;color:#444">',
      )
      .replace(/<a /g, '<a style="color:#0b5cad" ')
      // Outlook sizes an image by its width attribute alone (no max-width): every one gets the column's
      // width, and CSS scales it down on narrower screens; a height attribute would distort it.
      .replace(
        /<img\b([^>]*)>/g,
        (_tag, attributes: string) =>
          `<img width="560"${attributes.replace(/\s*\/$/, '').replace(/\s(?:width|height|style)="[^"]*"/g, '')} style="display:block;width:100%;max-width:560px;height:auto;border:0">`,
      )
  );
}

function firstParagraph(bodyHtml: string, siteUrl: string): string {
  const match = /<p>[\s\S]*?<\/p>/.exec(bodyHtml);
  return match ? absolutise(match[0], siteUrl) : '';
}

/** The body as plain-text paragraphs separated by blank lines. */
function markdownToParagraphs(markdown: string): string {
  return markdown
    .split(/\n\s*\n/)
    .map((block) => markdownToText(block))
    .filter((block) => block.length > 0)
    .join('\n\n');
}
