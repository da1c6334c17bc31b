// What other parts of Gazette may use of the settings module (docs/ARCHITECTURE.md, "Modules and borders").
export { createSecretSealer } from './sealed-secrets.ts';
export type { SecretSealer } from './sealed-secrets.ts';
export { getOrCreateSecretKey } from './secret.ts';
export { getSiteSettings, siteSettingsSchema, updateSiteSettings } from './settings.service.ts';
export type { SiteSettings } from './settings.service.ts';
