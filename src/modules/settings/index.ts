// What other parts of Gazette may use of the settings module (docs/ARCHITECTURE.md, "Modules and borders").
export { getOrCreateSecretKey } from './secret.ts';
export { getSiteSettings, siteSettingsSchema, updateSiteSettings } from './settings.service.ts';
