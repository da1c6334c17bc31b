// Cards in an article body: an image, a gallery, a video, a pull quote, an embed of a link, and raw HTML.
// A card is stored in the Markdown body as a fenced block whose info string names the kind in braces (the
// MyST convention, so no ordinary code block such as ```html is taken for one):
//
//   ```{image}
//   src: /media/harbour.3f9a1c2b4d5e.jpg
//   alt: Fishing boats in the harbour at dawn
//   caption: The harbour at dawn.
//   ```
//
// Its fields are `key: value` lines, one per line, so a revision diff shows which field changed; a blank line
// starts a new group (a gallery's images). The raw HTML card holds its HTML as written. This file is shared
// by the server's renderer (ui/markdown.ts) and the editor's bundle (ui/editor/), so both read a card alike;
// it imports nothing.

export const cardKinds = ['image', 'gallery', 'video', 'pullquote', 'embed', 'html'] as const;
export type CardKind = (typeof cardKinds)[number];

/** A card as found in the Markdown: its kind, the text between the fences, and the whole source. */
export interface CardSource {
  kind: CardKind;
  body: string;
  raw: string;
}

/** One group of `key: value` lines; keys are lowercase. */
export type CardFields = Record<string, string>;

const openingFence = /^( {0,3})(`{3,})\{([a-z]+)\}[ \t]*(?:\n|$)/;

function isCardKind(value: string): value is CardKind {
  return (cardKinds as readonly string[]).includes(value);
}

/**
 * The card at the very start of `src`, or undefined. The closing fence is a line of at least as many
 * backticks as the opening one; a card that is never closed is not a card (Markdown then reads it as a
 * code block to the end, as CommonMark says), so half-typed text is never taken for a card.
 */
export function matchCard(src: string): CardSource | undefined {
  const open = openingFence.exec(src);
  if (!open) return undefined;
  const [opening, , ticks = '', kind = ''] = open;
  if (!isCardKind(kind)) return undefined;
  const closing = new RegExp(`^ {0,3}\`{${ticks.length},}[ \\t]*$`);
  const lines = src.slice(opening.length).split('\n');
  const body: string[] = [];
  let consumed = opening.length;
  for (const [index, line] of lines.entries()) {
    if (closing.test(line)) {
      consumed += line.length + (index < lines.length - 1 ? 1 : 0);
      return { kind, body: body.join('\n'), raw: src.slice(0, consumed) };
    }
    body.push(line);
    consumed += line.length + 1;
  }
  return undefined;
}

/** Where a card may start in `src` (marked's `start` hint): the first line that opens one, or -1. */
export function cardStart(src: string): number {
  const match = /(?:^|\n) {0,3}`{3,}\{[a-z]+\}/.exec(src);
  if (!match) return -1;
  return match.index + (match[0].startsWith('\n') ? 1 : 0);
}

/** A card's Markdown: a fence longer than any run of backticks inside, so the body can hold anything. */
export function cardMarkdown(kind: CardKind, body: string): string {
  const longest = Math.max(0, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}{${kind}}\n${body.replace(/\n+$/, '')}\n${fence}`;
}

/** The groups of `key: value` lines of a card's body; lines that are not such a line are ignored. */
export function parseFields(body: string): CardFields[] {
  const groups: CardFields[] = [];
  let current: CardFields | undefined;
  for (const line of body.split('\n')) {
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    const match = /^([a-z][a-z0-9-]*):[ \t]?(.*)$/.exec(line);
    if (!match) continue;
    if (!current) {
      current = {};
      groups.push(current);
    }
    current[match[1] ?? ''] = (match[2] ?? '').trim();
  }
  return groups;
}

/** The body of a card from its groups: empty values are left out, a value is one line. */
export function formatFields(groups: readonly CardFields[]): string {
  return groups
    .map((group) =>
      Object.entries(group)
        .map(([key, value]) => [key, oneLine(value)] as const)
        .filter(([, value]) => value !== '')
        .map(([key, value]) => `${key}: ${value}`)
        .join('\n'),
    )
    .filter((group) => group !== '')
    .join('\n\n');
}

export function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/** A stored file's public path (`/media/<fingerprinted name>`): the only source an image or video card may have. */
export const mediaPathPattern = /^\/media\/[A-Za-z0-9._~%-]+$/;

export interface CardImage {
  src: string;
  alt: string;
  decorative: boolean;
  width: number | null;
  height: number | null;
  srcset: string;
}

function positive(value: string | undefined): number | null {
  return value && /^[1-9]\d{0,5}$/.test(value) ? Number(value) : null;
}

/** An image of a card's group (`src`, `alt`, `decorative: yes`, `width`, `height`, `srcset`). */
export function imageOf(fields: CardFields): CardImage {
  return {
    src: fields.src ?? '',
    alt: fields.alt ?? '',
    decorative: fields.decorative === 'yes',
    width: positive(fields.width),
    height: positive(fields.height),
    srcset: fields.srcset ?? '',
  };
}

/** A card's images and caption: one image for `image`, each group after the first for `gallery`. */
export function imagesOf(kind: 'image' | 'gallery', body: string): { images: CardImage[]; caption: string } {
  const groups = parseFields(body);
  if (kind === 'image') {
    const first = groups[0] ?? {};
    return { images: first.src === undefined ? [] : [imageOf(first)], caption: first.caption ?? '' };
  }
  // A gallery: a group without `src` holds the gallery's own caption; every group with one is an image.
  const own = groups.find((g) => g.src === undefined) ?? {};
  return { images: groups.filter((g) => g.src !== undefined).map(imageOf), caption: own.caption ?? '' };
}

/** A recognised link to a video or social post, by its host and path alone (nothing is fetched). */
export interface EmbedLink {
  provider: 'YouTube' | 'Vimeo' | 'X' | 'Instagram' | 'TikTok';
  /** The link as readers follow it: https, the provider's canonical host. */
  url: string;
  /** What the link is: "video" or "post". */
  what: 'video' | 'post';
}

/**
 * The provider of `text` if it is an https (or http) link to a YouTube or Vimeo video, an X post, an
 * Instagram post or reel, or a TikTok video; null otherwise (any other scheme, such as `javascript:`,
 * included).
 */
export function recogniseEmbed(text: string): EmbedLink | null {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password || (url.port && url.port !== '443' && url.port !== '80')) return null;
  const host = url.hostname.toLowerCase().replace(/^(www|m|mobile)\./, '');
  const path = url.pathname;
  const id = (pattern: RegExp) => pattern.exec(path)?.[1];
  if (host === 'youtube.com' || host === 'youtube-nocookie.com') {
    const video =
      (path === '/watch' ? url.searchParams.get('v') : null) ?? id(/^\/(?:shorts|embed|live)\/([\w-]{6,20})\/?$/);
    return video && /^[\w-]{6,20}$/.test(video)
      ? { provider: 'YouTube', url: `https://www.youtube.com/watch?v=${video}`, what: 'video' }
      : null;
  }
  if (host === 'youtu.be') {
    const video = id(/^\/([\w-]{6,20})\/?$/);
    return video ? { provider: 'YouTube', url: `https://www.youtube.com/watch?v=${video}`, what: 'video' } : null;
  }
  if (host === 'vimeo.com' || host === 'player.vimeo.com') {
    const video = id(/^\/(?:video\/)?(\d{3,12})\/?$/);
    return video ? { provider: 'Vimeo', url: `https://vimeo.com/${video}`, what: 'video' } : null;
  }
  if (host === 'x.com' || host === 'twitter.com') {
    const match = /^\/([A-Za-z0-9_]{1,15})\/status\/(\d{5,25})\/?$/.exec(path);
    return match ? { provider: 'X', url: `https://x.com/${match[1]}/status/${match[2]}`, what: 'post' } : null;
  }
  if (host === 'instagram.com') {
    const match = /^\/(p|reel)\/([\w-]{5,40})\/?$/.exec(path);
    return match
      ? {
          provider: 'Instagram',
          url: `https://www.instagram.com/${match[1]}/${match[2]}/`,
          what: match[1] === 'reel' ? 'video' : 'post',
        }
      : null;
  }
  if (host === 'tiktok.com') {
    const match = /^\/(@[\w.-]{1,40})\/video\/(\d{5,25})\/?$/.exec(path);
    return match
      ? { provider: 'TikTok', url: `https://www.tiktok.com/${match[1]}/video/${match[2]}`, what: 'video' }
      : null;
  }
  return null;
}
