// What a paste from Google Docs, Word or a web page keeps: headings, paragraphs, lists, quotes, links, bold
// and italic. The editor's schema already drops any element it has no node for; this first removes what
// must never be read at all (scripts, styles, frames, forms, comments, Word's conditional blocks, images
// from elsewhere such as tracking pixels) and turns the styles the sources use for emphasis into elements.

/** A paste larger than this is refused with a message rather than frozen on (a 5 MB document is ~100× an article). */
export const maxPasteBytes = 1024 * 1024;

export function cleanPastedHtml(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  for (const element of doc.querySelectorAll(
    'script, style, noscript, iframe, object, embed, form, input, button, select, textarea, template, link, meta, svg, canvas, video, audio',
  ))
    element.remove();
  // Only stored files may be images in a body; anything else (a tracking pixel, a hot-linked picture) goes.
  for (const img of doc.querySelectorAll('img'))
    if (!/^\/media\/[A-Za-z0-9._~%-]+$/.test(img.getAttribute('src') ?? '')) img.remove();
  wordLists(doc);
  const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_COMMENT);
  const comments: Node[] = [];
  while (walker.nextNode()) comments.push(walker.currentNode);
  for (const comment of comments) comment.parentNode?.removeChild(comment);
  // Google Docs wraps a paste in <b style="font-weight:normal">; the Bold mark already ignores it. A title
  // (h1) is the page's headline alone: in a body it is a section heading.
  for (const h1 of doc.querySelectorAll('h1')) {
    const h2 = doc.createElement('h2');
    h2.append(...h1.childNodes);
    h1.replaceWith(h2);
  }
  for (const element of doc.body.querySelectorAll('[style], [class], [id]')) {
    const style = element.getAttribute('style') ?? '';
    // Emphasis given only by style (Google Docs, Word): keep it as the element it means.
    if (element.tagName === 'SPAN') {
      const bold = /font-weight\s*:\s*(bold|[6-9]00)/i.test(style);
      const italic = /font-style\s*:\s*italic/i.test(style);
      let inner: Element = element;
      if (italic) inner = wrap(doc, inner, 'em');
      if (bold) wrap(doc, inner, 'strong');
    }
    element.removeAttribute('class');
    element.removeAttribute('id');
  }
  return doc.body.innerHTML;
}

/**
 * Word puts a list on the clipboard as paragraphs styled `mso-list:…`, each starting with its bullet or
 * number between `<![if !supportLists]>` and `<![endif]>` (which the HTML parser reads as comments). Those
 * paragraphs become a real list (numbered when the marker is a number), without the typed markers.
 */
function wordLists(doc: Document): void {
  let list: HTMLElement | null = null;
  for (const paragraph of [...doc.body.querySelectorAll('p')]) {
    if (!/mso-list\s*:/i.test(paragraph.getAttribute('style') ?? '')) {
      list = null;
      continue;
    }
    let marker = '';
    let inMarker = false;
    for (const node of [...paragraph.childNodes]) {
      if (node.nodeType === Node.COMMENT_NODE) {
        const text = (node as Comment).data;
        if (/\[if !supportLists\]/i.test(text)) inMarker = true;
        else if (/\[endif\]/i.test(text)) inMarker = false;
        continue;
      }
      if (inMarker) {
        marker += node.textContent ?? '';
        node.remove();
      }
    }
    const ordered = /^\s*[0-9a-z]{1,3}[.)]/i.test(marker);
    const previous: HTMLElement | null = list !== null && paragraph.previousElementSibling === list ? list : null;
    const target: HTMLElement =
      previous && (previous.tagName === 'OL') === ordered ? previous : doc.createElement(ordered ? 'ol' : 'ul');
    if (target !== previous) paragraph.before(target);
    list = target;
    const item = doc.createElement('li');
    item.append(...paragraph.childNodes);
    target.append(item);
    paragraph.remove();
  }
}

/** Moves `element`'s children into a new `tag` inside it; returns the new element. */
function wrap(doc: Document, element: Element, tag: string): Element {
  const inner = doc.createElement(tag);
  inner.append(...element.childNodes);
  element.append(inner);
  return inner;
}

export function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
