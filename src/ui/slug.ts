// The one rule for an address made from a title: the server's (articles.schema.ts) and the editor's script's.

/** A slug made from a title: "Café owners’ 2026 plan!" → "cafe-owners-2026-plan". */
export function slugify(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/g, '');
}
