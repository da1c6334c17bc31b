import { z } from 'zod';
import type { Db } from '../../db/index.ts';

/** Time zones already checked: building an Intl.DateTimeFormat costs about a millisecond, and settings are read per request. */
const checkedTimeZones = new Map<string, boolean>();

function isTimeZone(zone: string): boolean {
  let valid = checkedTimeZones.get(zone);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      valid = true;
    } catch {
      valid = false;
    }
    if (checkedTimeZones.size < 1000) checkedTimeZones.set(zone, valid);
  }
  return valid;
}

/**
 * Site settings: stored as JSON values under their keys in `settings`, read through this schema so that a
 * missing or damaged value falls back to its default instead of breaking the site.
 */
export const siteSettingsSchema = z.object({
  publicationName: z.string().min(1).max(120).default('Gazette'),
  description: z.string().max(300).default('News, reported and edited by people.'),
  locale: z
    .string()
    .regex(/^[a-z]{2}(-[A-Z]{2})?$/)
    .default('en'),
  /** IANA zone in which dates are shown to readers. */
  timeZone: z.string().refine(isTimeZone, 'unknown time zone').default('UTC'),
  /** Media URL of the publication's logo (structured data's publisher logo), or empty. */
  logoUrl: z.string().max(300).default(''),
  logoWidth: z.number().int().min(0).default(0),
  logoHeight: z.number().int().min(0).default(0),
  newsletterName: z.string().min(1).max(120).default('the newsletter'),
  signupHeading: z.string().min(1).max(160).default('Sign up for the newsletter'),
  signupPitch: z
    .string()
    .max(400)
    .default('The day’s most important stories by email. You can unsubscribe at any time.'),
  /** Markdown, one line: the consent checkbox's label, linking both legal documents. */
  consentLabel: z
    .string()
    .min(1)
    .max(400)
    .default('I agree with the [Terms and conditions](/terms) and the [Privacy policy](/privacy)'),
});

export type SiteSettings = z.infer<typeof siteSettingsSchema>;
type SettingKey = keyof SiteSettings;

/** Reads every setting, applying defaults for those not stored. */
export async function getSiteSettings(db: Db): Promise<SiteSettings> {
  const rows = await db.selectFrom('settings').select(['key', 'value']).execute();
  const raw: Record<string, unknown> = {};
  for (const row of rows) {
    try {
      raw[row.key] = JSON.parse(row.value);
    } catch {
      // A damaged value is ignored: its default applies.
    }
  }
  const shape = siteSettingsSchema.shape;
  const settings: Record<string, unknown> = {};
  for (const key of Object.keys(shape) as SettingKey[]) {
    const parsed = shape[key].safeParse(raw[key]);
    settings[key] = parsed.success ? parsed.data : shape[key].parse(undefined);
  }
  return siteSettingsSchema.parse(settings);
}

/** Stores the given settings (validated); others keep their values. */
export async function updateSiteSettings(db: Db, patch: Partial<SiteSettings>): Promise<void> {
  const valid = siteSettingsSchema.partial().parse(patch);
  for (const [key, value] of Object.entries(valid)) {
    if (value === undefined) continue;
    await db
      .insertInto('settings')
      .values({ key, value: JSON.stringify(value) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(value) }))
      .execute();
  }
}
