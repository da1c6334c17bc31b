import { mergeAttributes, Node } from '@tiptap/core';
import { NodeSelection } from '@tiptap/pm/state';
import { type CardKind, cardKinds, cardMarkdown, cardStart, matchCard, mediaPathPattern } from '../article-cards.ts';

// The editor's own nodes: cards (article-cards.ts), a block of Markdown the editor keeps as written (a table,
// a block of HTML: what an older article may hold and the rich editor has no control for), and an image
// written in Markdown (`![alt](/media/…)`). Each reads and writes the same Markdown the server renders.

/** Cards stand between blocks at the top level of the body, never inside a list or a quote. */
export const BodyDocument = Node.create({
  name: 'doc',
  topNode: true,
  content: '(block | card)+',
  renderMarkdown: (node, helpers) => (node.content ? helpers.renderChildren(node.content, '\n\n') : ''),
});

export interface CardViewFactory {
  (node: { kind: CardKind; body: string }, actions: { edit: () => void; remove: () => void }): HTMLElement;
}

declare module '@tiptap/core' {
  interface Commands<ReturnType> {
    card: {
      /** Inserts a card at the selection (or replaces the selected card). */
      insertCard: (kind: CardKind, body: string) => ReturnType;
    };
  }
}

export const Card = Node.create<{
  view: CardViewFactory | null;
  edit: ((pos: number, kind: CardKind, body: string) => void) | null;
}>({
  name: 'card',
  group: 'card',
  atom: true,
  selectable: true,
  draggable: true,
  addOptions() {
    return { view: null, edit: null };
  },
  addAttributes() {
    return {
      kind: { default: 'image' as CardKind },
      body: { default: '' },
    };
  },
  parseHTML() {
    return [
      {
        tag: 'div[data-card-kind]',
        getAttrs: (element) => {
          const kind = element.getAttribute('data-card-kind') ?? '';
          return (cardKinds as readonly string[]).includes(kind)
            ? { kind, body: element.getAttribute('data-card-body') ?? '' }
            : false;
        },
      },
    ];
  },
  renderHTML({ node, HTMLAttributes }) {
    return [
      'div',
      mergeAttributes(HTMLAttributes, {
        'data-card-kind': node.attrs.kind as string,
        'data-card-body': node.attrs.body as string,
      }),
    ];
  },
  markdownTokenName: 'gazetteCard',
  markdownTokenizer: {
    name: 'gazetteCard',
    level: 'block',
    start: (src: string) => cardStart(src),
    tokenize: (src: string) => {
      const card = matchCard(src);
      return card ? { type: 'gazetteCard', raw: card.raw, kind: card.kind, body: card.body } : undefined;
    },
  },
  parseMarkdown: (token) => ({ type: 'card', attrs: { kind: token.kind as CardKind, body: String(token.body ?? '') } }),
  renderMarkdown: (node) => cardMarkdown((node.attrs?.kind ?? 'image') as CardKind, String(node.attrs?.body ?? '')),
  addCommands() {
    return {
      // After the card comes an empty paragraph with the cursor in it, so writing goes on below the card and
      // the next card never replaces this one (an empty paragraph is not stored).
      insertCard:
        (kind, body) =>
        ({ state, chain }) => {
          const content = [{ type: 'card', attrs: { kind, body } }, { type: 'paragraph' }];
          const { selection } = state;
          if (selection instanceof NodeSelection && selection.node.type.name === 'card')
            return chain().insertContentAt(selection.to, content).run();
          return chain().insertContent(content).run();
        },
    };
  },
  addNodeView() {
    return ({ node, getPos, editor }) => {
      const factory = this.options.view;
      const at = () => (typeof getPos === 'function' ? getPos() : undefined);
      const actions = {
        edit: () => {
          const pos = at();
          if (pos !== undefined) this.options.edit?.(pos, node.attrs.kind as CardKind, node.attrs.body as string);
        },
        remove: () => {
          const pos = at();
          if (pos !== undefined)
            editor
              .chain()
              .focus()
              .deleteRange({ from: pos, to: pos + node.nodeSize })
              .run();
        },
      };
      const dom = factory
        ? factory({ kind: node.attrs.kind as CardKind, body: node.attrs.body as string }, actions)
        : document.createElement('div');
      dom.contentEditable = 'false';
      return {
        dom,
        ignoreMutation: () => true,
        stopEvent: (event) =>
          !(event instanceof DragEvent) && (event.target as HTMLElement | null)?.closest('button, a, input') !== null,
      };
    };
  },
});

/** Markdown kept exactly as written: a table, a block of HTML. Shown as its source; removable, not editable here. */
export const RawMarkdown = Node.create({
  name: 'rawMarkdown',
  group: 'block',
  atom: true,
  selectable: true,
  addAttributes() {
    return { text: { default: '' } };
  },
  parseHTML() {
    return [{ tag: 'pre[data-raw-markdown]', getAttrs: (element) => ({ text: element.textContent ?? '' }) }];
  },
  renderHTML({ node }) {
    return [
      'pre',
      { 'data-raw-markdown': '', class: 'rich-raw', title: 'Kept as written in Markdown' },
      node.attrs.text as string,
    ];
  },
  renderMarkdown: (node) => String(node.attrs?.text ?? '').replace(/\n+$/, ''),
});

/** marked's `table` and block `html` tokens become a RawMarkdown block with their source. */
export const RawTable = Node.create({
  name: 'rawTable',
  markdownTokenName: 'table',
  parseMarkdown: (token) => ({ type: 'rawMarkdown', attrs: { text: String(token.raw ?? '') } }),
});
export const RawHtmlBlock = Node.create({
  name: 'rawHtmlBlock',
  markdownTokenName: 'html',
  parseMarkdown: (token) => (token.block ? { type: 'rawMarkdown', attrs: { text: String(token.raw ?? '') } } : []),
});

/** `![alt](/media/…)`: an image written in Markdown. Only stored files are taken (a pasted tracking pixel is not). */
export const MarkdownImage = Node.create({
  name: 'markdownImage',
  group: 'block',
  atom: true,
  selectable: true,
  draggable: true,
  addAttributes() {
    return { src: { default: '' }, alt: { default: '' }, title: { default: null } };
  },
  parseHTML() {
    return [
      {
        tag: 'img[src]',
        getAttrs: (element) => {
          const src = element.getAttribute('src') ?? '';
          return mediaPathPattern.test(src)
            ? { src, alt: element.getAttribute('alt') ?? '', title: element.getAttribute('title') }
            : false;
        },
      },
    ];
  },
  renderHTML({ HTMLAttributes }) {
    return ['img', HTMLAttributes];
  },
  markdownTokenName: 'image',
  parseMarkdown: (token) => ({
    type: 'markdownImage',
    attrs: {
      src: String(token.href ?? ''),
      alt: String(token.text ?? ''),
      title: token.title ? String(token.title) : null,
    },
  }),
  renderMarkdown: (node) => {
    const alt = String(node.attrs?.alt ?? '').replace(/([[\]\\])/g, '\\$1');
    const title = node.attrs?.title ? ` "${String(node.attrs.title).replace(/"/g, '\\"')}"` : '';
    return `![${alt}](${String(node.attrs?.src ?? '')}${title})`;
  },
});
