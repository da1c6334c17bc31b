import { html, type SafeHtml } from './html.ts';
import type { SiteContext } from './layout.ts';

/**
 * The CSRF form field, the one name the newsroom's CSRF guard reads (`csrfField` in the users module is
 * this constant).
 */
export const csrfFieldName = '_csrf';

/**
 * The newsroom's roles, least first, as its navigation shows them. The users module's `Role` is checked
 * against this list where the newsroom is wired (src/newsroom/newsroom.render.ts).
 */
export type NewsroomRole = 'contributor' | 'author' | 'editor' | 'admin';

/** One entry of the newsroom's navigation and the least role that sees it (the server checks again). */
interface NewsroomSection {
  path: string;
  label: string;
  minimum: NewsroomRole;
}

const roleRank: Record<NewsroomRole, number> = { contributor: 0, author: 1, editor: 2, admin: 3 };

const sections: readonly NewsroomSection[] = [
  { path: '/newsroom', label: 'Dashboard', minimum: 'contributor' },
  { path: '/newsroom/articles', label: 'Articles', minimum: 'contributor' },
  { path: '/newsroom/media', label: 'Media', minimum: 'contributor' },
  { path: '/newsroom/newsletters', label: 'Newsletter', minimum: 'editor' },
  { path: '/newsroom/subscribers', label: 'Subscribers', minimum: 'editor' },
  { path: '/newsroom/legal', label: 'Legal', minimum: 'admin' },
  { path: '/newsroom/users', label: 'Users', minimum: 'admin' },
  { path: '/newsroom/webhooks', label: 'Webhooks', minimum: 'admin' },
];

export interface NewsroomPageMeta {
  title: string;
  /** Path of this page, e.g. `/newsroom/articles/12`; picks the current navigation entry. */
  path: string;
  user: { name: string; email: string; role: NewsroomRole };
  csrf: string;
  /** Scripts from src/ui/assets by source name (`editor.js`), loaded with `defer` and SRI. */
  scripts?: string[];
}

/** A hidden input carrying the CSRF token: every newsroom form that POSTs includes one. */
export function csrfInput(token: string): SafeHtml {
  return html`<input type="hidden" name="${csrfFieldName}" value="${token}">`;
}

/**
 * The document around every signed-in newsroom page: a compact bar with the publication's name, the
 * sections this user's role may open, and sign-out. Pages are `noindex`; no-store comes from the guards.
 * The CSRF token is also in a meta tag, for scripts that POST with `x-csrf-token`.
 */
export function newsroomLayout(site: SiteContext, meta: NewsroomPageMeta, main: SafeHtml): string {
  const { settings } = site;
  const current = sections
    .filter((s) => meta.path === s.path || meta.path.startsWith(`${s.path}/`))
    .sort((a, b) => b.path.length - a.path.length)[0]?.path;
  const visible = sections.filter((s) => roleRank[meta.user.role] >= roleRank[s.minimum]);
  return html`<!doctype html>
<html lang="${settings.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${meta.title} – Newsroom – ${settings.publicationName}</title>
<meta name="robots" content="noindex, nofollow">
<meta name="color-scheme" content="light dark">
<meta name="csrf-token" content="${meta.csrf}">
<link rel="stylesheet" href="${site.assets.url('site.css')}" integrity="${site.assets.integrity('site.css')}">
<link rel="stylesheet" href="${site.assets.url('newsroom.css')}" integrity="${site.assets.integrity('newsroom.css')}">
<link rel="icon" href="${site.assets.url('favicon.svg')}" type="image/svg+xml">
${(meta.scripts ?? []).map((name) => html`<script defer src="${site.assets.url(name)}" integrity="${site.assets.integrity(name)}"></script>`)}
</head>
<body class="newsroom-body">
<a class="skip-link" href="#main">Skip to content</a>
<header class="newsroom-bar">
  <p class="newsroom-bar__title"><a href="/newsroom">${settings.publicationName}</a> <span>Newsroom</span></p>
  <nav class="newsroom-bar__nav" aria-label="Newsroom"><ul>${visible.map(
    (s) => html`<li><a href="${s.path}"${s.path === current ? html` aria-current="page"` : ''}>${s.label}</a></li>`,
  )}</ul></nav>
  <div class="newsroom-bar__user">
    <span>${meta.user.name || meta.user.email} · ${meta.user.role}</span>
    <a href="/" target="_blank" rel="noopener">View site</a>
    <form method="post" action="/newsroom/sign-out">${csrfInput(meta.csrf)}<button class="newsroom-bar__sign-out" type="submit">Sign out</button></form>
  </div>
</header>
<main id="main" class="newsroom newsroom--wide">
${main}
</main>
</body>
</html>
`.value;
}
