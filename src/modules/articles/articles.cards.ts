import type { Db } from '../../db/index.ts';
import {
  type CardFields,
  type CardKind,
  cardMarkdown,
  formatFields,
  mediaPathPattern,
  parseFields,
  recogniseEmbed,
} from '../../ui/article-cards.ts';
import { htmlCardProblems } from '../../ui/markdown-cards.ts';
import { findCards, rewriteCards } from '../../ui/markdown.ts';
import { findMediaByFileNames, findMediaByIds, findVariantsOfMedia, toMediaView, toVideoView } from '../media/index.ts';
import type { ErrorCode } from '../../errors.ts';

// The rules for cards in an article body (ui/article-cards.ts), applied when an article is saved: every
// card is checked, with a message that says what to do; and each top-level image, gallery and video card
// gets its sizes, poster frame and captions written in from the media library, so the stored Markdown holds
// everything the renderer needs (it renders without the database, as feeds and newsletters do).

/** A refused card: the error code and the message shown next to the body. */
export class CardProblem extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface CardCheck {
  db: Db;
  /** Editors and admins may add or change raw HTML cards; anyone else may keep the ones already there. */
  mayUseHtml: boolean;
  /** The body as it was saved before, whose HTML cards anyone may keep. */
  previousBody: string;
  /** The language of video captions (the publication's locale). */
  locale: string;
}

interface StoredFile {
  kind: string;
  mimeType: string;
  width: number | null;
  height: number | null;
  srcset: string;
  durationSeconds: number | null;
  poster: string | null;
  captions: string | null;
}

function fileNameOf(src: string): string {
  try {
    return decodeURIComponent(src.slice('/media/'.length));
  } catch {
    return '';
  }
}

function short(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** The stored files the cards name, with what a card shows of them. */
async function loadFiles(db: Db, sources: string[]): Promise<Map<string, StoredFile>> {
  const rows = await findMediaByFileNames(db, sources.filter((src) => mediaPathPattern.test(src)).map(fileNameOf));
  const byId = new Map(rows.map((row) => [row.id, row]));
  const extra = rows
    .flatMap((row) => [row.poster_media_id, row.captions_media_id])
    .filter((id): id is number => id !== null && !byId.has(id));
  for (const row of await findMediaByIds(db, extra)) byId.set(row.id, row);
  const variants = await findVariantsOfMedia(db, [...byId.keys()]);
  const files = new Map<string, StoredFile>();
  for (const row of rows) {
    const view = toMediaView(row, variants);
    const video = row.kind === 'video' ? toVideoView(row, byId, variants) : null;
    files.set(view.url, {
      kind: row.kind,
      mimeType: row.mime_type,
      width: row.width,
      height: row.height,
      srcset: view.srcset ?? '',
      durationSeconds: row.duration_seconds === null ? null : Math.round(row.duration_seconds),
      poster: video?.poster?.url ?? null,
      captions: video?.captions?.url ?? null,
    });
  }
  return files;
}

/** An image group checked, and written in a fixed order with its sizes from the library. */
function checkImage(group: CardFields, files: Map<string, StoredFile>, what: string): CardFields {
  const src = (group.src ?? '').trim();
  if (src === '')
    throw new CardProblem(
      'article.card_invalid',
      `${what} has no image: upload one or choose one from the media library.`,
    );
  if (!mediaPathPattern.test(src)) {
    throw new CardProblem(
      'article.card_invalid',
      `${what} points at ${short(src)}. Images in an article must be uploaded (the card’s “Upload” or the media library), so that no other site is loaded by readers’ browsers.`,
    );
  }
  const file = files.get(src);
  if (!file || file.kind !== 'image')
    throw new CardProblem(
      'article.card_invalid',
      `${what} shows ${short(src)}, which is not an image in the media library (deleted?). Choose another.`,
    );
  const decorative = group.decorative === 'yes';
  if (!decorative && (group.alt ?? '').trim() === '')
    throw new CardProblem(
      'article.card_invalid',
      `${what} needs alt text (what the image shows), or to be marked decorative.`,
    );
  // Any other field the card holds is kept, after the known ones.
  const rest = Object.fromEntries(
    Object.entries(group).filter(
      ([key]) => !['src', 'alt', 'decorative', 'caption', 'width', 'height', 'srcset'].includes(key),
    ),
  );
  const { caption } = group;
  return {
    src,
    alt: decorative ? '' : (group.alt ?? ''),
    decorative: decorative ? 'yes' : '',
    caption: caption ?? '',
    width: file.width ? String(file.width) : '',
    height: file.height ? String(file.height) : '',
    srcset: file.srcset,
    ...rest,
  };
}

function checkVideo(group: CardFields, files: Map<string, StoredFile>, locale: string): CardFields {
  const src = (group.src ?? '').trim();
  if (!mediaPathPattern.test(src))
    throw new CardProblem(
      'article.card_invalid',
      `A video card must show a video from the media library${src ? `, not ${short(src)}` : ''}.`,
    );
  const file = files.get(src);
  if (!file || file.kind !== 'video')
    throw new CardProblem(
      'article.card_invalid',
      `The video card’s ${short(src)} is not a video in the media library (deleted?). Choose another.`,
    );
  const { caption } = group;
  return {
    src,
    type: file.mimeType,
    caption: caption ?? '',
    poster: file.poster ?? '',
    captions: file.captions ?? '',
    'captions-lang': file.captions ? locale : '',
    width: file.width ? String(file.width) : '',
    height: file.height ? String(file.height) : '',
    duration: file.durationSeconds ? String(file.durationSeconds) : '',
  };
}

/**
 * Checks every card of `body` and returns the body with its top-level cards' media fields written from the
 * library. Throws CardProblem with a message for the person at the editor.
 */
export async function checkCards(body: string, check: CardCheck): Promise<string> {
  const cards = findCards(body);
  if (cards.length === 0) return body;

  const keptHtml = new Set(
    findCards(check.previousBody)
      .filter((c) => c.kind === 'html')
      .map((c) => c.body.trim()),
  );
  const sources: string[] = [];
  for (const card of cards) {
    const groups = parseFields(card.body);
    if (card.kind === 'image' || card.kind === 'gallery' || card.kind === 'video')
      sources.push(...groups.map((g) => (g.src ?? '').trim()));
    if (card.kind === 'html') {
      if (!check.mayUseHtml && !keptHtml.has(card.body.trim()))
        throw new CardProblem(
          'article.html_card_forbidden',
          'Only editors may add or change HTML cards. Remove the HTML card, or ask an editor to add it.',
        );
      const problems = htmlCardProblems(card.body);
      if (problems.length > 0)
        throw new CardProblem(
          'article.card_invalid',
          `The HTML card holds ${problems.join(', ')}, which readers’ pages do not allow. Remove ${problems.length === 1 ? 'it' : 'them'} and save again.`,
        );
    }
    if (card.kind === 'embed') {
      const url = (groups[0]?.url ?? '').trim();
      if (!recogniseEmbed(url)) {
        throw new CardProblem(
          'article.card_invalid',
          /^https?:\/\//i.test(url)
            ? `The embed’s address ${short(url)} is not a link Gazette recognises: a YouTube or Vimeo video, an X post, an Instagram post or reel, or a TikTok video.`
            : `The embed’s address${url ? ` “${short(url)}”` : ''} is not a web link: an embed takes an https:// link to YouTube, Vimeo, X, Instagram or TikTok.`,
        );
      }
    }
    if (card.kind === 'pullquote' && !(groups[0]?.text ?? '').trim())
      throw new CardProblem('article.card_invalid', 'A pull quote card has no quote: type it, or remove the card.');
  }

  const files = await loadFiles(check.db, sources);
  const canonical = (kind: CardKind, cardBody: string): string => {
    const groups = parseFields(cardBody);
    switch (kind) {
      case 'image':
        return formatFields([checkImage(groups[0] ?? {}, files, 'An image card')]);
      case 'gallery': {
        const own = groups.filter((g) => g.src === undefined);
        const images = groups.filter((g) => g.src !== undefined);
        if (images.length === 0)
          throw new CardProblem('article.card_invalid', 'A gallery card has no images: add some, or remove the card.');
        return formatFields([
          ...own.slice(0, 1),
          ...images.map((g, i) => checkImage(g, files, `Image ${i + 1} of a gallery`)),
        ]);
      }
      case 'video':
        return formatFields([checkVideo(groups[0] ?? {}, files, check.locale)]);
      case 'pullquote':
      case 'embed':
      case 'html':
        return cardBody;
    }
  };
  // Nested cards (written by hand inside a quote or a list) are checked as they stand.
  for (const card of cards) if (!card.topLevel) canonical(card.kind, card.body);
  return rewriteCards(body, (card) => cardMarkdown(card.kind, canonical(card.kind, card.body)));
}
