import { Editor, Extension, type JSONContent } from '@tiptap/core';
import { Placeholder } from '@tiptap/extensions';
import { Markdown } from '@tiptap/markdown';
import StarterKit from '@tiptap/starter-kit';
import type { CardKind } from '../article-cards.ts';
import { Autosave, post } from './autosave.ts';
import {
  type CardContext,
  cardLabels,
  cardView,
  type ImageChoice,
  openCardDialog,
  type VideoChoice,
} from './cards-ui.ts';
import { field, openDialog } from './dialog.ts';
import { csrfToken, h } from './dom.ts';
import { BodyDocument, Card, MarkdownImage, RawHtmlBlock, RawMarkdown, RawTable } from './extensions.ts';
import { slugify } from '../slug.ts';
import { cleanPastedHtml, maxPasteBytes, megabytes } from './paste.ts';
import { buildToolbar, shortcutRows, type ToolbarItem } from './toolbar.ts';

// The article editor's script (bundled by esbuild into assets/editor.bundle.js; see ui/editor-bundle.ts).
// The page is a plain form that works without it: a Markdown textarea and buttons. This replaces the
// textarea with a rich-text editor (Tiptap, on ProseMirror) that reads and writes the same Markdown, keeps
// the textarea up to date so the form posts as before, and adds the toolbar, cards, autosave with its
// state, the word count, the settings panel's toggle, the slug preview and the media pickers' thumbnails.

function start(form: HTMLFormElement): void {
  const textarea = form.querySelector<HTMLTextAreaElement>('#body');
  const bodyField = textarea?.closest<HTMLElement>('.editor-field');
  const title = form.querySelector<HTMLInputElement>('#title');
  const status = document.querySelector<HTMLElement>('#autosave-status');
  const conflictBox = document.querySelector<HTMLElement>('#editor-conflict');
  if (!textarea || !bodyField || !status || !conflictBox) return;

  const autosave = new Autosave({ form, status, conflictBox, title, beforeSave: () => syncBody() });
  const media = readMediaChoices();
  const cardContext: CardContext = {
    images: media.images,
    videos: media.videos,
    canUseHtml: form.dataset.htmlCards === 'true',
    upload: (file, alt, decorative) => uploadImage(file, alt, decorative),
  };

  // The original Markdown is written back untouched until the text is edited, so opening and saving an
  // article never reformats it.
  const original = textarea.value;
  let edited = false;
  const syncBody = () => {
    if (edited) textarea.value = bodyMarkdown(editor);
  };

  const mount = h('div', { class: 'rich-editor__text' });
  const counts = h('p', { class: 'rich-editor__counts', id: 'body-counts', 'aria-live': 'off' });
  const message = h('p', { class: 'rich-editor__message', role: 'alert' });

  const editCard = (pos: number, kind: CardKind, body: string) =>
    openCardDialog(kind, body, cardContext, (next) => {
      editor
        .chain()
        .focus()
        .command(({ tr }) => {
          tr.setNodeMarkup(pos, undefined, { kind, body: next });
          return true;
        })
        .run();
    });

  const Shortcuts = Extension.create({
    name: 'gazetteShortcuts',
    addKeyboardShortcuts() {
      return {
        'Mod-k': () => (linkDialog(), true),
        'Mod-/': () => (helpSheet(), true),
        Escape: () => {
          // Out of the text, to the toolbar: a keyboard user is never trapped in the editor.
          (document.querySelector<HTMLElement>('.rich-toolbar [tabindex="0"]') ?? title)?.focus();
          return true;
        },
      };
    },
  });

  const editor: Editor = new Editor({
    element: mount,
    injectCSS: false, // the Content-Security-Policy allows no inline <style>: newsroom's editor.css has these rules
    extensions: [
      BodyDocument,
      StarterKit.configure({
        document: false,
        heading: { levels: [2, 3, 4] },
        underline: false, // Markdown has no underline
        link: { openOnClick: false, autolink: true, defaultProtocol: 'https', protocols: ['mailto'] },
      }),
      Placeholder.configure({ placeholder: 'Write the article. Type ## for a heading, > for a quote, - for a list…' }),
      Markdown.configure({ markedOptions: { gfm: true } }),
      Card.configure({ view: cardView, edit: editCard }),
      RawMarkdown,
      RawTable,
      RawHtmlBlock,
      MarkdownImage,
      Shortcuts,
    ],
    content: original,
    contentType: 'markdown',
    editorProps: {
      attributes: {
        role: 'textbox',
        'aria-multiline': 'true',
        'aria-label': 'Article body',
        'aria-describedby': 'body-counts',
        class: 'rich-editor__prose article__body prose',
        spellcheck: 'true',
      },
      transformPastedHTML: cleanPastedHtml,
      handlePaste: (_view, event) => {
        const data = event.clipboardData;
        const size = Math.max(data?.getData('text/html').length ?? 0, data?.getData('text/plain').length ?? 0);
        if (size > maxPasteBytes) {
          say(
            `Not pasted: that is ${megabytes(size)} of text, more than the ${megabytes(maxPasteBytes)} a paste may be. Paste it a part at a time.`,
          );
          return true;
        }
        const image = [...(data?.files ?? [])].find((f) => f.type.startsWith('image/'));
        if (image) {
          openCardDialog(
            'image',
            '',
            cardContext,
            (body) => editor.chain().focus().insertCard('image', body).run(),
            image,
          );
          return true;
        }
        return false;
      },
      handleDrop: (view, event) => {
        const files = [...(event.dataTransfer?.files ?? [])];
        if (files.length === 0) return false;
        event.preventDefault();
        const images = files.filter((f) => f.type.startsWith('image/'));
        if (images.length === 0) {
          say('Only images can be dropped into the text. Videos go in the media library, then in a video card.');
          return true;
        }
        const at = view.posAtCoords({ left: event.clientX, top: event.clientY })?.pos;
        if (at !== undefined) editor.commands.setTextSelection(at);
        const [first] = images;
        if (images.length === 1 && first)
          openCardDialog(
            'image',
            '',
            cardContext,
            (body) => editor.chain().focus().insertCard('image', body).run(),
            first,
          );
        else
          openCardDialog(
            'gallery',
            '',
            cardContext,
            (body) => editor.chain().focus().insertCard('gallery', body).run(),
            first,
          );
        return true;
      },
    },
    onUpdate: () => {
      edited = true;
      syncBody();
      showCounts();
      autosave.changed();
    },
  });

  const say = (text: string) => {
    message.textContent = text;
  };

  const showCounts = () => {
    const words = editor.state.doc
      .textBetween(0, editor.state.doc.content.size, ' ', ' ')
      .split(/\s+/)
      .filter(Boolean).length;
    // The same rule as the reading time on the article page (readingMinutes in ui/format.ts).
    const minutes = Math.max(1, Math.round(words / 230));
    counts.textContent = `${words.toLocaleString()} ${words === 1 ? 'word' : 'words'} · ${minutes} min read`;
  };

  const linkDialog = () => {
    const existing = (editor.getAttributes('link').href as string | undefined) ?? '';
    const url = h('input', { type: 'url', value: existing, placeholder: 'https://…' });
    openDialog({
      title: existing ? 'Edit the link' : 'Add a link',
      content: [
        field(
          'Address',
          url,
          'A web address (https://…), a mail address (mailto:…) or a path on this site (/articles/…).',
        ),
      ],
      submitLabel: existing ? 'Update link' : 'Add link',
      extraButtons: existing
        ? [{ label: 'Remove link', onClick: () => editor.chain().focus().extendMarkRange('link').unsetLink().run() }]
        : [],
      onSubmit: () => {
        const href = url.value.trim();
        if (!/^(https?:\/\/[^\s]+|mailto:[^\s]+|\/(?!\/)[^\s]*)$/i.test(href)) {
          url.setAttribute('aria-invalid', 'true');
          return 'That is not a link Gazette keeps: use https://…, mailto:… or a path starting with /.';
        }
        const chain = editor.chain().focus().extendMarkRange('link');
        if (editor.state.selection.empty && !existing)
          chain.insertContent({ type: 'text', text: href, marks: [{ type: 'link', attrs: { href } }] }).run();
        else chain.setLink({ href }).run();
        return null;
      },
    });
  };

  const insertCard = (kind: CardKind) => () =>
    openCardDialog(kind, '', cardContext, (body) => editor.chain().focus().insertCard(kind, body).run());

  const items: ToolbarItem[] = [
    {
      id: 'bold',
      label: 'Bold',
      icon: 'B',
      shortcut: 'Mod-b',
      group: 'text',
      run: () => editor.chain().focus().toggleBold().run(),
      active: () => editor.isActive('bold'),
    },
    {
      id: 'italic',
      label: 'Italic',
      icon: 'I',
      shortcut: 'Mod-i',
      group: 'text',
      run: () => editor.chain().focus().toggleItalic().run(),
      active: () => editor.isActive('italic'),
    },
    {
      id: 'link',
      label: 'Link',
      icon: 'Link',
      shortcut: 'Mod-k',
      group: 'text',
      run: linkDialog,
      active: () => editor.isActive('link'),
    },
    {
      id: 'h2',
      label: 'Heading',
      icon: 'H2',
      shortcut: 'Mod-Alt-2',
      group: 'block',
      run: () => editor.chain().focus().toggleHeading({ level: 2 }).run(),
      active: () => editor.isActive('heading', { level: 2 }),
    },
    {
      id: 'h3',
      label: 'Subheading',
      icon: 'H3',
      shortcut: 'Mod-Alt-3',
      group: 'block',
      run: () => editor.chain().focus().toggleHeading({ level: 3 }).run(),
      active: () => editor.isActive('heading', { level: 3 }),
    },
    {
      id: 'quote',
      label: 'Quote',
      icon: '❝',
      shortcut: 'Mod-Shift-b',
      group: 'block',
      run: () => editor.chain().focus().toggleBlockquote().run(),
      active: () => editor.isActive('blockquote'),
    },
    {
      id: 'bullets',
      label: 'Bulleted list',
      icon: '•',
      shortcut: 'Mod-Shift-8',
      group: 'block',
      run: () => editor.chain().focus().toggleBulletList().run(),
      active: () => editor.isActive('bulletList'),
    },
    {
      id: 'numbers',
      label: 'Numbered list',
      icon: '1.',
      shortcut: 'Mod-Shift-7',
      group: 'block',
      run: () => editor.chain().focus().toggleOrderedList().run(),
      active: () => editor.isActive('orderedList'),
    },
    {
      id: 'rule',
      label: 'Horizontal rule',
      icon: '―',
      group: 'block',
      run: () => editor.chain().focus().setHorizontalRule().run(),
    },
    ...(
      [
        'image',
        'gallery',
        'video',
        'pullquote',
        'embed',
        ...(cardContext.canUseHtml ? (['html'] as const) : []),
      ] as const
    ).map((kind): ToolbarItem => ({
      id: `card-${kind}`,
      label: `Insert ${cardLabels[kind].toLowerCase()}`,
      icon: cardIcons[kind],
      group: 'cards',
      run: insertCard(kind),
    })),
    {
      id: 'undo',
      label: 'Undo',
      icon: '↶',
      shortcut: 'Mod-z',
      group: 'history',
      run: () => editor.chain().focus().undo().run(),
      enabled: () => editor.can().undo(),
    },
    {
      id: 'redo',
      label: 'Redo',
      icon: '↷',
      shortcut: 'Mod-Shift-z',
      group: 'history',
      run: () => editor.chain().focus().redo().run(),
      enabled: () => editor.can().redo(),
    },
    { id: 'help', label: 'Keyboard shortcuts', icon: '?', shortcut: 'Mod-/', group: 'help', run: () => helpSheet() },
  ];

  const helpSheet = () => {
    openDialog({
      title: 'Keyboard shortcuts',
      content: [
        h(
          'table',
          { class: 'newsroom__table rich-shortcuts' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'What'), h('th', { scope: 'col' }, 'Keys'))),
          h(
            'tbody',
            {},
            ...shortcutRows(items).map(([what, keys]) =>
              h('tr', {}, h('td', {}, what), h('td', {}, h('kbd', {}, keys))),
            ),
          ),
        ),
      ],
      submitLabel: 'Close',
      onSubmit: () => null,
    });
  };

  // The rich editor takes the textarea's place; the textarea stays in the form (hidden) and is what posts.
  const label = bodyField.querySelector('label');
  if (label) label.id = 'body-label';
  const toolbar = buildToolbar(editor, items, 'rich-body');
  editor.view.dom.id = 'rich-body';
  const wrapper = h('div', { class: 'rich-editor' }, toolbar, mount, counts, message);
  textarea.hidden = true;
  bodyField.querySelector('.editor-field__hint')?.setAttribute('hidden', '');
  textarea.after(wrapper);
  showCounts();
  form.classList.add('editor--rich');

  form.addEventListener('input', (event) => {
    if (mount.contains(event.target as Node)) return; // the editor reports its own changes
    if (event.target === title || (event.target as HTMLElement).id === 'slug') showSlug(form);
    autosave.changed();
  });
  form.addEventListener('change', (event) => {
    if (mount.contains(event.target as Node)) return;
    autosave.changed();
  });
  // A button press waits for an autosave in flight, so the form goes with the newest revision number.
  form.addEventListener('submit', (event) => {
    syncBody();
    const saving = autosave.saving;
    if (!saving) {
      autosave.halt();
      return;
    }
    autosave.cancelTimer();
    event.preventDefault();
    const submitter = event.submitter;
    void saving.then(() => form.requestSubmit(submitter instanceof HTMLElement ? submitter : undefined));
  });

  enhanceSettingsPanel(form);
  enhanceMediaPickers(form);
  enhancePreview(form, syncBody);
  showSlug(form);
  // Measured by the browser tests: the editor takes keys from here on.
  performance.mark('gazette-editor-ready');
  document.documentElement.dataset.editorReady = 'true';
}

/**
 * An empty paragraph between blocks (the one after the last block, a blank line typed twice) says nothing
 * to a reader; inside a list item it is the item itself, and stays.
 */
function withoutEmptyParagraphs(doc: JSONContent): JSONContent {
  return {
    ...doc,
    content: (doc.content ?? []).filter((child) => !(child.type === 'paragraph' && !child.content?.length)),
  };
}

/** The body's Markdown as it is stored: no empty paragraphs, no trailing blank lines. */
function bodyMarkdown(editor: Editor): string {
  const manager = editor.markdown;
  if (!manager) return editor.getMarkdown();
  return manager.serialize(withoutEmptyParagraphs(editor.getJSON())).replace(/\s+$/, '');
}

/** Words, not pictograms: the toolbar's card buttons say what they insert (and no emoji font is needed). */
const cardIcons: Record<CardKind, string> = {
  image: '+ Image',
  gallery: '+ Gallery',
  video: '+ Video',
  pullquote: '+ Pull quote',
  embed: '+ Embed',
  html: '+ HTML',
};

function readMediaChoices(): { images: ImageChoice[]; videos: VideoChoice[] } {
  try {
    const parsed = JSON.parse(document.getElementById('editor-media')?.textContent ?? '{}') as {
      images?: ImageChoice[];
      videos?: VideoChoice[];
    };
    return { images: parsed.images ?? [], videos: parsed.videos ?? [] };
  } catch {
    return { images: [], videos: [] };
  }
}

/** Uploads an image to the media library (the same endpoint as its form); resolves to its public path. */
async function uploadImage(file: File, alt: string, decorative: boolean): Promise<string> {
  const data = new FormData();
  data.append('_csrf', csrfToken());
  data.append('alt', alt);
  if (decorative) data.append('decorative', 'on');
  data.append('file', file);
  let response: Response;
  try {
    response = await fetch('/newsroom/media', {
      method: 'POST',
      body: data,
      headers: { accept: 'application/json', 'x-csrf-token': csrfToken() },
      credentials: 'same-origin',
    });
  } catch {
    throw new Error('The upload failed: the newsroom cannot be reached. Try again when you are back online.');
  }
  const result = (await response.json().catch(() => ({}))) as { url?: string; error?: { message?: string } };
  if (response.status !== 201 || !result.url)
    throw new Error(
      result.error?.message ??
        (response.status === 413 ? 'This file is too large.' : `The upload failed (error ${response.status}).`),
    );
  return result.url;
}

function showSlug(form: HTMLFormElement): void {
  const title = form.querySelector<HTMLInputElement>('#title');
  const slug = form.querySelector<HTMLInputElement>('#slug');
  const preview = form.querySelector('[data-slug-preview]');
  if (!title || !slug || !preview) return;
  const made = slugify(title.value);
  preview.textContent = slug.value || made || '…';
  slug.placeholder = made;
}

/** The settings panel (slug, tags, authors, media, SEO, correction, schedule) opens and closes, and stays as left. */
function enhanceSettingsPanel(form: HTMLFormElement): void {
  const panel = form.querySelector<HTMLElement>('#editor-settings');
  const toggle = document.querySelector<HTMLButtonElement>('[data-settings-toggle]');
  if (!panel || !toggle) return;
  const key = 'gazette.editor.settings';
  const narrow = window.matchMedia('(max-width: 60rem)');
  const set = (open: boolean) => {
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    form.classList.toggle('editor--settings-closed', !open);
  };
  const stored = localStorage.getItem(key);
  // A field with an error must be visible: the panel opens whenever the form came back refused.
  set(document.getElementById('form-errors') ? true : stored === null ? !narrow.matches : stored === 'open');
  toggle.hidden = false;
  toggle.addEventListener('click', () => {
    const open = panel.hidden !== false;
    set(open);
    localStorage.setItem(key, open ? 'open' : 'closed');
    if (open) panel.querySelector<HTMLElement>('input, select, textarea, button')?.focus();
  });
}

/** The media pickers' thumbnails follow the chosen image or video. */
function enhanceMediaPickers(form: HTMLFormElement): void {
  for (const select of form.querySelectorAll<HTMLSelectElement>('select[data-media-picker]')) {
    select.addEventListener('change', () => {
      const thumb = select.selectedOptions[0]?.dataset.thumb;
      let img = select.parentElement?.querySelector<HTMLImageElement>('img.editor-thumb') ?? null;
      if (!thumb) return img?.remove();
      if (!img) {
        img = h('img', { class: 'editor-thumb', alt: '', width: 160, height: 90 });
        select.after(img);
      }
      img.src = thumb;
    });
  }
}

/** The preview as readers will see it, rendered by the server, refreshed while it is open. */
function enhancePreview(form: HTMLFormElement, syncBody: () => void): void {
  const details = document.querySelector<HTMLDetailsElement>('[data-preview-details]');
  const target = document.querySelector<HTMLElement>('[data-preview]');
  const body = form.querySelector<HTMLTextAreaElement>('#body');
  if (!details || !target || !body) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;
  const refresh = () => {
    if (!details.open) return;
    syncBody();
    const mine = ++seq;
    post('/newsroom/articles/preview', new URLSearchParams({ body: body.value }))
      .then((response) =>
        response.ok
          ? (response.json() as Promise<{ html: string }>)
          : Promise.reject(new Error(String(response.status))),
      )
      .then((result) => {
        // The server's sanitised rendering, exactly what readers get.
        if (mine === seq) target.innerHTML = result.html;
      })
      .catch(() => {
        target.textContent = 'The preview could not be updated; press “Preview” to see it.';
      });
  };
  details.addEventListener('toggle', refresh);
  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
}

// Last, once every constant above is defined.
const editorForm = document.querySelector<HTMLFormElement>('form[data-editor]');
if (editorForm) start(editorForm);
