/**
 * Escape-by-default HTML templates. `html\`…\`` escapes every interpolated value except fragments that are
 * themselves `SafeHtml` (nested templates, or `raw()` for HTML already sanitised, such as a rendered
 * article body). Arrays are joined. So a template can nest freely without double escaping, and a string
 * from a visitor or the database is always text.
 *
 * (We tried ghtml first: its `!${}` opt-out makes every nested fragment a place to forget the `!`, and a
 * forgotten one double-escapes while a misplaced one injects. A value type makes the safe path the default.)
 */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c] ?? c);
}

/** Marks HTML that is already safe (sanitised Markdown, JSON-LD with `<` escaped). */
export function raw(trusted: string): SafeHtml {
  return new SafeHtml(trusted);
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function interpolate(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(interpolate).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += interpolate(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}
