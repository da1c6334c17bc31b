import type { Db } from '../db/index.ts';
import { listTagsInUse } from '../modules/articles/index.ts';
import { getSiteSettings, siteSettingsSchema } from '../modules/settings/index.ts';
import type { StaticAssets } from '../ui/static-assets.ts';
import type { SiteContext } from '../ui/layout.ts';

/** How many sections the masthead lists. */
const mastheadSections = 7;

/** Gathers what every page shares; called once per rendered (then cached) page. */
export async function loadSiteContext(db: Db, siteUrl: string, assets: StaticAssets, now = new Date()): Promise<SiteContext> {
  const [settings, tags] = await Promise.all([getSiteSettings(db), listTagsInUse(db)]);
  return {
    settings,
    siteUrl,
    sections: tags.slice(0, mastheadSections),
    assets,
    logo: settings.logoUrl ? { url: settings.logoUrl, width: settings.logoWidth, height: settings.logoHeight } : null,
    now,
  };
}

/** A context that needs no database, for error pages when the database itself is failing. */
export function fallbackSiteContext(siteUrl: string, assets: StaticAssets): SiteContext {
  return { settings: siteSettingsSchema.parse({}), siteUrl, sections: [], assets, logo: null, now: new Date() };
}
