import type { Db } from '../db/index.ts';
import { listTagsInUse } from '../modules/articles/index.ts';
import { getSiteSettings, siteSettingsSchema } from '../modules/settings/index.ts';
import type { StaticAssets } from '../ui/static-assets.ts';
import type { SiteContext } from '../ui/layout.ts';

/** How many sections the masthead lists. */
const mastheadSections = 7;

/**
 * What every page shares (settings, the masthead's sections): read once and kept until content changes, when
 * it is dropped with the cached pages (`invalidate()`, wired by app.ts). The sections are the tags in use,
 * counted over every published article: reading them for each page cost more than the rest of a cold article
 * render together (250 ms of 40,000 articles on SQLite under load; issue 15).
 */
export class SiteContextSource {
  readonly #db: Db;
  readonly #siteUrl: string;
  readonly #assets: StaticAssets;
  #shared: Promise<Omit<SiteContext, 'now'>> | undefined;

  constructor(db: Db, siteUrl: string, assets: StaticAssets) {
    this.#db = db;
    this.#siteUrl = siteUrl;
    this.#assets = assets;
  }

  /** Drops what was read (content or settings changed). A page rendered meanwhile is not kept by the page cache. */
  invalidate(): void {
    this.#shared = undefined;
  }

  /** The context of a page rendered at `now`. */
  async load(now = new Date()): Promise<SiteContext> {
    return { ...(await (this.#shared ??= this.#read())), now };
  }

  #read(): Promise<Omit<SiteContext, 'now'>> {
    const reading = (async () => {
      const [settings, tags] = await Promise.all([getSiteSettings(this.#db), listTagsInUse(this.#db)]);
      return {
        settings,
        siteUrl: this.#siteUrl,
        sections: tags.slice(0, mastheadSections),
        assets: this.#assets,
        logo: settings.logoUrl
          ? { url: settings.logoUrl, width: settings.logoWidth, height: settings.logoHeight }
          : null,
      };
    })();
    // A failed read (the database down for a moment) is not kept: the next page reads again.
    reading.catch(() => {
      if (this.#shared === reading) this.#shared = undefined;
    });
    return reading;
  }
}

/** A context that needs no database, for error pages when the database itself is failing. */
export function fallbackSiteContext(siteUrl: string, assets: StaticAssets): SiteContext {
  return { settings: siteSettingsSchema.parse({}), siteUrl, sections: [], assets, logo: null, now: new Date() };
}
