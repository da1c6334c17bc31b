import type { Editor } from '@tiptap/core';
import { h } from './dom.ts';

// The formatting toolbar: one tab stop (arrow keys move along it, as WAI-ARIA's toolbar pattern says), each
// button named, its shortcut in its title and in the help sheet, and toggles showing their state with
// aria-pressed.

export interface ToolbarItem {
  id: string;
  label: string;
  /** The visible glyph; the label is the accessible name. */
  icon: string;
  shortcut?: string;
  run: () => void;
  /** For toggles: whether the selection has it. */
  active?: () => boolean;
  /** Whether it can apply now (undo with nothing to undo cannot). */
  enabled?: () => boolean;
  group: string;
}

const isMac = /Mac|iPhone|iPad/.test(navigator.platform);
/** `Mod-Shift-8` → `Ctrl+Shift+8` (⌘ on a Mac). */
export function shortcutLabel(shortcut: string): string {
  return shortcut
    .split('-')
    .map((key) =>
      key === 'Mod'
        ? isMac
          ? '⌘'
          : 'Ctrl'
        : key === 'Alt'
          ? isMac
            ? '⌥'
            : 'Alt'
          : key.length === 1
            ? key.toUpperCase()
            : key,
    )
    .join('+');
}

export function buildToolbar(editor: Editor, items: ToolbarItem[], controls: string): HTMLElement {
  const toolbar = h('div', {
    class: 'rich-toolbar',
    role: 'toolbar',
    'aria-label': 'Formatting and cards',
    'aria-controls': controls,
  });
  const buttons: HTMLButtonElement[] = [];
  let group = '';
  for (const item of items) {
    if (group && item.group !== group) toolbar.append(h('span', { class: 'rich-toolbar__gap', 'aria-hidden': 'true' }));
    group = item.group;
    const button = h(
      'button',
      {
        type: 'button',
        class: 'rich-toolbar__button',
        'data-command': item.id,
        title: item.shortcut ? `${item.label} (${shortcutLabel(item.shortcut)})` : item.label,
        'aria-pressed': item.active ? 'false' : null,
        tabindex: buttons.length === 0 ? 0 : -1,
      },
      h('span', { 'aria-hidden': 'true' }, item.icon),
      h('span', { class: 'visually-hidden' }, item.label),
    );
    // mousedown would move focus out of the text and lose the selection before the command runs.
    button.addEventListener('mousedown', (event) => event.preventDefault());
    button.addEventListener('click', () => item.run());
    buttons.push(button);
    toolbar.append(button);
  }
  toolbar.addEventListener('keydown', (event) => {
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0) return;
    const next =
      event.key === 'ArrowRight'
        ? index + 1
        : event.key === 'ArrowLeft'
          ? index - 1
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? buttons.length - 1
              : null;
    if (next === null) return;
    event.preventDefault();
    const target = buttons[(next + buttons.length) % buttons.length];
    if (!target) return;
    for (const b of buttons) b.tabIndex = b === target ? 0 : -1;
    target.focus();
  });
  const refresh = () => {
    items.forEach((item, i) => {
      const button = buttons[i];
      if (!button) return;
      if (item.active) button.setAttribute('aria-pressed', String(item.active()));
      if (item.enabled) button.disabled = !item.enabled();
    });
    // A disabled button cannot hold the one tab stop.
    if (!buttons.some((b) => b.tabIndex === 0 && !b.disabled)) {
      const first = buttons.find((b) => !b.disabled);
      for (const b of buttons) b.tabIndex = b === first ? 0 : -1;
    }
  };
  editor.on('transaction', refresh);
  refresh();
  return toolbar;
}

/** The keyboard shortcuts help sheet's rows: what, and the keys. */
export function shortcutRows(items: ToolbarItem[]): [string, string][] {
  return [
    ...items.filter((i) => i.shortcut).map((i) => [i.label, shortcutLabel(i.shortcut ?? '')] as [string, string]),
    ['Heading (as you type)', '## then a space'],
    ['Quote (as you type)', '> then a space'],
    ['Bulleted list (as you type)', '- then a space'],
    ['Numbered list (as you type)', '1. then a space'],
    ['Bold (as you type)', '**text**'],
    ['Italic (as you type)', '*text*'],
    ['Horizontal rule (as you type)', '---'],
    ['Leave the toolbar or a dialog', 'Escape'],
  ];
}
