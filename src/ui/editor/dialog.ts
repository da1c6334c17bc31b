import { h, uid } from './dom.ts';

// A small modal dialog on the native <dialog> element: it keeps focus inside while open, Escape closes it,
// and focus returns to what opened it. A form inside it checks its fields and says what is wrong next to the
// fields, in a message the screen reader announces.

export interface DialogOptions {
  title: string;
  /** The fields and text of the dialog. */
  content: (Node | string)[];
  submitLabel: string;
  /** Extra buttons before "Cancel" (e.g. "Remove link"). */
  extraButtons?: { label: string; onClick: () => void }[];
  /** Checks and applies the dialog; returns an error message to keep it open, or null to close it. */
  onSubmit: () => string | null | Promise<string | null>;
}

export function openDialog(options: DialogOptions): HTMLDialogElement {
  const titleId = uid('dialog-title');
  const errorId = uid('dialog-error');
  const error = h('p', { class: 'rich-dialog__error', id: errorId, role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'newsroom__button' }, options.submitLabel);
  const cancel = h('button', { type: 'button', class: 'newsroom__button newsroom__button--quiet' }, 'Cancel');
  const extras = (options.extraButtons ?? []).map((b) => {
    const button = h('button', { type: 'button', class: 'newsroom__button newsroom__button--quiet' }, b.label);
    button.addEventListener('click', () => {
      b.onClick();
      dialog.close();
    });
    return button;
  });
  const form = h(
    'form',
    { method: 'dialog', class: 'rich-dialog__form', novalidate: true },
    h('h2', { id: titleId }, options.title),
    ...options.content,
    error,
    h('div', { class: 'rich-dialog__buttons' }, submit, ...extras, cancel),
  );
  const dialog = h('dialog', { class: 'rich-dialog', 'aria-labelledby': titleId }, form);
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  cancel.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    void Promise.resolve(options.onSubmit())
      .then((message) => {
        if (message) {
          error.textContent = message;
          return;
        }
        dialog.close();
      })
      .catch((e: unknown) => {
        error.textContent = e instanceof Error ? e.message : 'Something went wrong; please try again.';
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
    opener?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** A labelled field: input, textarea, select or checkbox, with an optional hint. */
export function field(
  label: string,
  control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement,
  hint?: string,
): HTMLElement {
  control.id ||= uid('field');
  const hintEl = hint ? h('p', { class: 'editor-field__hint', id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  if (control instanceof HTMLInputElement && control.type === 'checkbox') {
    return h(
      'div',
      { class: 'editor-field editor-field--check' },
      control,
      ' ',
      h('label', { for: control.id }, label),
      hintEl,
    );
  }
  return h('div', { class: 'editor-field' }, h('label', { for: control.id }, label), hintEl, control);
}
