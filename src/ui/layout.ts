import { html, raw, type SafeHtml } from './html.ts';
import type { StaticAssets } from './static-assets.ts';

/**
 * The publication's settings as the view kit reads them. The settings module's `SiteSettings` carries them
 * all (and is checked against this shape where the site builds its context); the kit names no domain.
 */
export interface PublicationSettings {
  publicationName: string;
  description: string;
  /** BCP 47 language, e.g. `en` or `he-IL`. */
  locale: string;
  /** IANA zone in which dates are shown to readers. */
  timeZone: string;
  logoUrl: string;
  logoWidth: number;
  logoHeight: number;
  newsletterName: string;
  signupHeading: string;
  signupPitch: string;
  /** Markdown, one line: the consent checkbox's label. */
  consentLabel: string;
}

/** A section of the masthead: a tag with its page. */
export interface Section {
  slug: string;
  name: string;
}

/** What every page of the public site shares: settings, the masthead's sections, asset URLs. */
export interface SiteContext {
  settings: PublicationSettings;
  siteUrl: string;
  sections: Section[];
  assets: StaticAssets;
  /** Media URL of the publication's logo, if one is set (used in structured data). */
  logo: { url: string; width: number; height: number } | null;
  now: Date;
}

export interface PageMeta {
  title: string;
  description: string;
  /** Path of the canonical URL, e.g. `/articles/x`. */
  path: string;
  /** Extra tags for the head: Open Graph, JSON-LD, prev/next. Already-escaped HTML. */
  head?: SafeHtml;
  /**
   * Robots directive, e.g. `noindex` for error pages (which then get no canonical link: there is no page to
   * point to). Indexable pages allow large image previews in search and Discover.
   */
  robots?: string;
  /** Stylesheets after site.css, by source name: the signed-out newsroom pages add `newsroom.css`. */
  stylesheets?: string[];
}

/** Building an Intl.DateTimeFormat costs about a millisecond; pages rendered per request (sign-up answers) reuse one. */
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function mastheadDateFormat(locale: string, timeZone: string): Intl.DateTimeFormat {
  const key = `${locale} ${timeZone}`;
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : locale, {
      timeZone,
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
    });
    if (dateFormats.size < 100) dateFormats.set(key, format);
  }
  return format;
}

/** The document around every public page: head, masthead, main, footer. */
export function layout(site: SiteContext, meta: PageMeta, main: SafeHtml): string {
  const { settings } = site;
  const indexable = !meta.robots?.includes('noindex');
  const canonical = site.siteUrl + meta.path;
  const fullTitle =
    meta.title === settings.publicationName ? meta.title : `${meta.title} – ${settings.publicationName}`;
  const today = mastheadDateFormat(settings.locale, settings.timeZone).format(site.now);
  return html`<!doctype html>
<html lang="${settings.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${fullTitle}</title>
<meta name="description" content="${meta.description}">
<meta name="color-scheme" content="light dark">
<meta name="theme-color" content="#fbfaf7" media="(prefers-color-scheme: light)">
<meta name="theme-color" content="#141414" media="(prefers-color-scheme: dark)">
<meta name="robots" content="${meta.robots ?? 'max-image-preview:large'}">
${indexable ? html`<link rel="canonical" href="${canonical}">` : ''}
<link rel="stylesheet" href="${site.assets.url('site.css')}" integrity="${site.assets.integrity('site.css')}">
${(meta.stylesheets ?? []).map((name) => html`<link rel="stylesheet" href="${site.assets.url(name)}" integrity="${site.assets.integrity(name)}">`)}
<link rel="icon" href="${site.assets.url('favicon.svg')}" type="image/svg+xml">
<link rel="alternate" type="application/rss+xml" title="${settings.publicationName} (RSS)" href="${site.siteUrl}/feed.xml">
<link rel="alternate" type="application/atom+xml" title="${settings.publicationName} (Atom)" href="${site.siteUrl}/atom.xml">
<link rel="alternate" type="application/feed+json" title="${settings.publicationName} (JSON Feed)" href="${site.siteUrl}/feed.json">
${meta.head}
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="masthead">
  <div class="masthead__bar">
    <p class="masthead__date">${today}</p>
    <p class="masthead__links"><a href="/#newsletter">Newsletter</a> <a href="/feed.xml">RSS</a></p>
    <form class="masthead__search" role="search" aria-label="Site search" action="/search" method="get">
      <label class="visually-hidden" for="masthead-search">Search articles</label>
      <input class="masthead__search-input" id="masthead-search" name="q" type="search" maxlength="200" placeholder="Search">
      <button class="masthead__search-button" type="submit">Search</button>
    </form>
  </div>
  <p class="masthead__title"><a href="/" rel="home">${settings.publicationName}</a></p>
  <p class="masthead__tagline">${settings.description}</p>
  ${
    site.sections.length > 0
      ? html`<nav class="sections" aria-label="Sections"><ul>${site.sections.map(
          (tag) => html`<li><a href="/tags/${tag.slug}">${tag.name}</a></li>`,
        )}</ul></nav>`
      : ''
  }
</header>
<main id="main">
${main}
</main>
<footer class="site-footer">
  <div class="site-footer__inner">
    <p class="site-footer__name">${settings.publicationName}</p>
    <nav aria-label="Footer"><ul>
      <li><a href="/terms">Terms and conditions</a></li>
      <li><a href="/privacy">Privacy policy</a></li>
      <li><a href="/feed.xml">RSS</a></li>
      <li><a href="/atom.xml">Atom</a></li>
      <li><a href="/feed.json">JSON Feed</a></li>
      <li><a href="/sitemap.xml">Sitemap</a></li>
    </ul></nav>
    <p class="site-footer__credit">© ${site.now.getUTCFullYear()} ${settings.publicationName}. Published with Gazette.</p>
  </div>
</footer>
</body>
</html>
`.value;
}

/**
 * The Open Graph locale (`en_US`) of a BCP 47 language setting: its region, or the likeliest one for the
 * language (Unicode CLDR likely subtags, through Intl.Locale), since Open Graph wants language_TERRITORY.
 */
export function openGraphLocale(locale: string): string {
  // Every page asks, with the one locale of the settings; maximize() looks the subtags up each time.
  let found = openGraphLocales.get(locale);
  if (found === undefined) {
    try {
      const full = new Intl.Locale(locale).maximize();
      found = full.region ? `${full.language}_${full.region}` : full.language;
    } catch {
      found = 'en_US';
    }
    if (openGraphLocales.size < 100) openGraphLocales.set(locale, found);
  }
  return found;
}

const openGraphLocales = new Map<string, string>();

/** JSON for a `<script type="application/ld+json">`: `<` is escaped so text can never close the element. */
export function jsonLdScript(data: unknown): SafeHtml {
  const json = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return raw(`<script type="application/ld+json">${json}</script>`);
}
