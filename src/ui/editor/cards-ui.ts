import {
  type CardFields,
  type CardKind,
  formatFields,
  imagesOf,
  parseFields,
  recogniseEmbed,
} from '../article-cards.ts';
import { field, openDialog } from './dialog.ts';
import { h } from './dom.ts';

// The cards as the editor shows them (a preview with "Edit" and "Remove"), and the dialog that makes or
// changes each kind. A dialog returns the card's new body (article-cards.ts); the server fills in an image's
// sizes and a video's poster and captions from the media library when the article is saved.

export interface ImageChoice {
  id: number;
  url: string;
  alt: string;
  name: string;
}
export interface VideoChoice {
  id: number;
  url: string;
  name: string;
  poster: string | null;
}

export interface CardContext {
  images: ImageChoice[];
  videos: VideoChoice[];
  /** Editors and admins only: the server refuses the HTML card to anyone else. */
  canUseHtml: boolean;
  /** Uploads an image to the media library; resolves to its public path, or rejects with a message. */
  upload: (file: File, alt: string, decorative: boolean) => Promise<string>;
}

export const cardLabels: Record<CardKind, string> = {
  image: 'Image',
  gallery: 'Gallery',
  video: 'Video',
  pullquote: 'Pull quote',
  embed: 'Embed',
  html: 'HTML',
};

/** The editor's view of a card. */
export function cardView(
  node: { kind: CardKind; body: string },
  actions: { edit: () => void; remove: () => void },
): HTMLElement {
  const label = cardLabels[node.kind];
  const edit = h(
    'button',
    { type: 'button', class: 'rich-card__button' },
    'Edit',
    h('span', { class: 'visually-hidden' }, ` ${label.toLowerCase()} card`),
  );
  const remove = h(
    'button',
    { type: 'button', class: 'rich-card__button' },
    'Remove',
    h('span', { class: 'visually-hidden' }, ` ${label.toLowerCase()} card`),
  );
  edit.addEventListener('click', actions.edit);
  remove.addEventListener('click', actions.remove);
  return h(
    'figure',
    { class: `rich-card rich-card--${node.kind}`, 'data-card': node.kind },
    h('div', { class: 'rich-card__bar' }, h('span', { class: 'rich-card__kind' }, label), edit, remove),
    ...preview(node.kind, node.body),
  );
}

function preview(kind: CardKind, body: string): Node[] {
  const fields = parseFields(body)[0] ?? {};
  switch (kind) {
    case 'image':
    case 'gallery': {
      const { images, caption } = imagesOf(kind, body);
      const missing = images.some((img) => !img.decorative && img.alt.trim() === '');
      return [
        h(
          'div',
          { class: 'rich-card__images' },
          ...images.map((img) => h('img', { src: img.src, alt: img.decorative ? '' : img.alt })),
        ),
        caption ? h('figcaption', {}, caption) : null,
        missing ? h('p', { class: 'rich-card__warning' }, 'Needs alt text (or mark the image decorative).') : null,
      ].filter((n): n is HTMLElement => n !== null);
    }
    case 'video':
      return [
        fields.poster ? h('img', { src: fields.poster, alt: '' }) : h('p', {}, fields.src ?? ''),
        h('figcaption', {}, fields.caption || 'Video'),
      ];
    case 'pullquote':
      return [h('blockquote', {}, fields.text ?? ''), fields.cite ? h('figcaption', {}, fields.cite) : ''].filter(
        (n): n is HTMLElement => n !== '',
      );
    case 'embed': {
      const link = recogniseEmbed(fields.url ?? '');
      return [
        h(
          'p',
          {},
          link ? `${link.provider}: ` : 'Not a recognised link: ',
          h('span', { class: 'rich-card__url' }, fields.url ?? ''),
        ),
        fields.caption ? h('figcaption', {}, fields.caption) : '',
      ].filter((n): n is HTMLElement => n !== '');
    }
    case 'html':
      return [h('pre', { class: 'rich-card__code' }, body.slice(0, 600))];
  }
}

const notImage = 'Please choose an image file (JPEG, PNG, WebP, GIF or AVIF).';

/** What readers' pages do not allow in an HTML card, found before the server says so. */
export function htmlCardWarning(html: string): string | null {
  const found = [
    /<\s*script/i.test(html) && '<script>',
    /<\s*iframe/i.test(html) && '<iframe>',
    /<\s*style/i.test(html) && '<style>',
    /\son[a-z]+\s*=/i.test(html) && 'event handlers (on… attributes)',
    /javascript\s*:/i.test(html) && 'javascript: links',
  ].filter(Boolean);
  return found.length > 0
    ? `Readers’ pages do not allow ${found.join(', ')}. Remove ${found.length === 1 ? 'it' : 'them'} to keep this card.`
    : null;
}

/** Opens the dialog for a card; `done` gets the new body. `file` pre-fills an image card (a drop or a paste). */
export function openCardDialog(
  kind: CardKind,
  body: string,
  context: CardContext,
  done: (body: string) => void,
  file?: File,
): void {
  switch (kind) {
    case 'image':
      return imageDialog(body, context, done, file);
    case 'gallery':
      return galleryDialog(body, context, done, file ? [file] : []);
    case 'video':
      return videoDialog(body, context, done);
    case 'pullquote':
      return pullQuoteDialog(body, done);
    case 'embed':
      return embedDialog(body, done);
    case 'html':
      return htmlDialog(body, context, done);
  }
}

function libraryPicker(context: CardContext, selected: string): HTMLSelectElement {
  return h(
    'select',
    {},
    h('option', { value: '' }, '— none —'),
    ...context.images.map((img) =>
      h(
        'option',
        { value: img.url, selected: img.url === selected, 'data-alt': img.alt },
        `${img.alt ? `${img.alt} — ` : ''}${img.name}`,
      ),
    ),
  );
}

function imageDialog(body: string, context: CardContext, done: (body: string) => void, dropped?: File): void {
  const old = parseFields(body)[0] ?? {};
  const isNew = !old.src;
  const fileInput = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp,image/gif,image/avif' });
  let file: File | undefined = dropped;
  const fileName = h(
    'p',
    { class: 'editor-field__hint', 'aria-live': 'polite' },
    dropped ? `To upload: ${dropped.name}` : '',
  );
  fileInput.addEventListener('change', () => {
    file = fileInput.files?.[0];
    fileName.textContent = file ? `To upload: ${file.name}` : '';
  });
  const library = libraryPicker(context, old.src ?? '');
  const alt = h('input', { type: 'text', maxlength: 500, value: old.alt ?? '' });
  library.addEventListener('change', () => {
    const chosen = library.selectedOptions[0]?.dataset.alt;
    if (chosen && alt.value.trim() === '') alt.value = chosen;
  });
  const decorative = h('input', { type: 'checkbox', checked: old.decorative === 'yes' });
  const caption = h('input', { type: 'text', maxlength: 500, value: old.caption ?? '' });
  openDialog({
    title: isNew ? 'Insert an image' : 'Edit the image',
    content: [
      field('Upload an image', fileInput, 'Or drop or paste an image into the text.'),
      fileName,
      field(isNew ? 'Or choose one from the media library' : 'Image from the media library', library),
      field('Alt text', alt, 'What the image shows, for readers who cannot see it.'),
      field('Decorative: it adds nothing to the text (no alt text)', decorative),
      field('Caption', caption),
    ],
    submitLabel: isNew ? 'Insert image' : 'Update image',
    onSubmit: async () => {
      if (file && !file.type.startsWith('image/')) return notImage;
      const src = file ? '' : library.value || old.src || '';
      if (!file && !src) return 'Choose an image to upload, or one from the media library.';
      if (!decorative.checked && alt.value.trim() === '') {
        alt.setAttribute('aria-invalid', 'true');
        alt.focus();
        return 'Describe the image in the alt text, or tick “Decorative”.';
      }
      const url = file ? await context.upload(file, alt.value.trim(), decorative.checked) : src;
      const keep: CardFields =
        url === old.src ? { width: old.width ?? '', height: old.height ?? '', srcset: old.srcset ?? '' } : {};
      done(
        formatFields([
          {
            src: url,
            alt: decorative.checked ? '' : alt.value,
            decorative: decorative.checked ? 'yes' : '',
            caption: caption.value,
            ...keep,
          },
        ]),
      );
      return null;
    },
  });
}

function galleryDialog(body: string, context: CardContext, done: (body: string) => void, dropped: File[]): void {
  const { images, caption: oldCaption } = imagesOf('gallery', body);
  interface Row {
    src: string;
    file?: File;
    alt: HTMLInputElement;
    decorative: HTMLInputElement;
    element: HTMLElement;
  }
  const rows: Row[] = [];
  const list = h('ol', { class: 'rich-gallery-list', 'aria-label': 'Images in the gallery' });
  const addRow = (src: string, alt: string, decorative: boolean, file?: File) => {
    const altInput = h('input', { type: 'text', maxlength: 500, value: alt });
    const decorativeInput = h('input', { type: 'checkbox', checked: decorative });
    const remove = h(
      'button',
      { type: 'button', class: 'newsroom__button newsroom__button--quiet' },
      'Remove',
      h('span', { class: 'visually-hidden' }, ` ${file?.name ?? src}`),
    );
    const element = h(
      'li',
      {},
      src
        ? h('img', { src, alt: '', width: 96, height: 64 })
        : h('span', { class: 'rich-gallery-list__file' }, file?.name ?? ''),
      field('Alt text', altInput),
      field('Decorative', decorativeInput),
      remove,
    );
    const row: Row = { src, alt: altInput, decorative: decorativeInput, element, ...(file ? { file } : {}) };
    remove.addEventListener('click', () => {
      rows.splice(rows.indexOf(row), 1);
      element.remove();
    });
    rows.push(row);
    list.append(element);
  };
  for (const img of images) addRow(img.src, img.alt, img.decorative);
  for (const file of dropped) addRow('', '', false, file);
  const files = h('input', {
    type: 'file',
    multiple: true,
    accept: 'image/jpeg,image/png,image/webp,image/gif,image/avif',
  });
  files.addEventListener('change', () => {
    for (const file of files.files ?? []) addRow('', '', false, file);
    files.value = '';
  });
  const library = libraryPicker(context, '');
  const addFromLibrary = h(
    'button',
    { type: 'button', class: 'newsroom__button newsroom__button--quiet' },
    'Add from the library',
  );
  addFromLibrary.addEventListener('click', () => {
    const option = library.selectedOptions[0];
    if (option?.value) addRow(option.value, option.dataset.alt ?? '', false);
  });
  const caption = h('input', { type: 'text', maxlength: 500, value: oldCaption });
  openDialog({
    title: images.length === 0 ? 'Insert a gallery' : 'Edit the gallery',
    content: [
      list,
      field('Upload images', files),
      h('div', { class: 'rich-dialog__row' }, field('Media library', library), addFromLibrary),
      field('Caption of the gallery', caption),
    ],
    submitLabel: images.length === 0 ? 'Insert gallery' : 'Update gallery',
    onSubmit: async () => {
      if (rows.length < 2) return 'A gallery has two images or more; add another (or insert a single image instead).';
      const missing = rows.find((r) => !r.decorative.checked && r.alt.value.trim() === '');
      if (missing) {
        missing.alt.focus();
        return 'Every image needs alt text, or to be marked decorative.';
      }
      if (rows.some((r) => r.file && !r.file.type.startsWith('image/'))) return notImage;
      for (const row of rows) {
        if (row.file) {
          row.src = await context.upload(row.file, row.alt.value.trim(), row.decorative.checked);
          delete row.file;
        }
      }
      const kept = new Map(images.map((img) => [img.src, img]));
      done(
        formatFields([
          { caption: caption.value },
          ...rows.map((r) => {
            const old = kept.get(r.src);
            return {
              src: r.src,
              alt: r.decorative.checked ? '' : r.alt.value,
              decorative: r.decorative.checked ? 'yes' : '',
              ...(old ? { width: String(old.width ?? ''), height: String(old.height ?? ''), srcset: old.srcset } : {}),
            };
          }),
        ]),
      );
      return null;
    },
  });
}

function videoDialog(body: string, context: CardContext, done: (body: string) => void): void {
  const old = parseFields(body)[0] ?? {};
  const picker = h(
    'select',
    {},
    h(
      'option',
      { value: '' },
      context.videos.length === 0 ? 'No videos yet: upload one in Media' : '— choose a video —',
    ),
    ...context.videos.map((v) => h('option', { value: v.url, selected: v.url === old.src }, v.name)),
  );
  const caption = h('input', { type: 'text', maxlength: 300, value: old.caption ?? '' });
  openDialog({
    title: old.src ? 'Edit the video' : 'Insert a video',
    content: [
      field('Video from the media library', picker, 'Its poster frame and captions come with it.'),
      field('Caption', caption),
    ],
    submitLabel: old.src ? 'Update video' : 'Insert video',
    onSubmit: () => {
      if (!picker.value) return 'Choose a video from the media library.';
      // The server adds the type, size, poster frame and captions from the media library when it saves.
      const kept: CardFields = picker.value === old.src ? { ...old } : {};
      done(formatFields([{ ...kept, src: picker.value, caption: caption.value }]));
      return null;
    },
  });
}

function pullQuoteDialog(body: string, done: (body: string) => void): void {
  const old = parseFields(body)[0] ?? {};
  const text = h('textarea', { rows: 3, maxlength: 600 }, old.text ?? '');
  const cite = h('input', { type: 'text', maxlength: 200, value: old.cite ?? '' });
  openDialog({
    title: old.text ? 'Edit the pull quote' : 'Insert a pull quote',
    content: [field('Quote', text), field('Who said it (optional)', cite)],
    submitLabel: old.text ? 'Update quote' : 'Insert quote',
    onSubmit: () => {
      if (text.value.trim() === '') return 'Type the quote.';
      done(formatFields([{ text: text.value, cite: cite.value }]));
      return null;
    },
  });
}

/** Why an embed address is refused, in words, or null when it is a recognised link. */
export function embedProblem(url: string): string | null {
  const trimmed = url.trim();
  if (trimmed === '') return 'Paste the address of the video or post.';
  if (!/^https?:\/\//i.test(trimmed))
    return 'That is not a web address: an embed takes an https:// link to YouTube, Vimeo, X, Instagram or TikTok.';
  return recogniseEmbed(trimmed)
    ? null
    : 'Gazette recognises links to a YouTube or Vimeo video, an X post, an Instagram post or reel, and a TikTok video. Paste one of those.';
}

function embedDialog(body: string, done: (body: string) => void): void {
  const old = parseFields(body)[0] ?? {};
  const url = h('input', { type: 'url', value: old.url ?? '', placeholder: 'https://www.youtube.com/watch?v=…' });
  const caption = h('input', { type: 'text', maxlength: 300, value: old.caption ?? '' });
  openDialog({
    title: old.url ? 'Edit the embed' : 'Embed a video or post',
    content: [
      field(
        'Address of the video or post',
        url,
        'YouTube, Vimeo, X, Instagram or TikTok. Readers see a link card: nothing loads from that site until they follow it.',
      ),
      field('Link text (optional)', caption),
    ],
    submitLabel: old.url ? 'Update embed' : 'Insert embed',
    onSubmit: () => {
      const problem = embedProblem(url.value);
      if (problem) {
        url.setAttribute('aria-invalid', 'true');
        return problem;
      }
      done(formatFields([{ url: url.value.trim(), caption: caption.value }]));
      return null;
    },
  });
}

function htmlDialog(body: string, context: CardContext, done: (body: string) => void): void {
  const code = h('textarea', { rows: 10, class: 'rich-dialog__code', spellcheck: 'false' }, body);
  openDialog({
    title: body ? 'Edit the HTML card' : 'Insert an HTML card',
    content: [
      field('HTML', code, 'Sanitised like the rest of the article: no scripts, frames, styles or event handlers.'),
    ],
    submitLabel: body ? 'Update HTML' : 'Insert HTML',
    onSubmit: () => {
      if (!context.canUseHtml) return 'Only editors may add HTML cards.';
      if (code.value.trim() === '') return 'Type the HTML.';
      return htmlCardWarning(code.value) ?? (done(code.value.replace(/\s+$/, '')), null);
    },
  });
}
