// What other parts of Gazette may use of the integrations module (docs/ARCHITECTURE.md, "Modules and borders").
export { integrationCommand } from './integrations.cli.ts';
export { IntegrationService } from './integrations.service.ts';
export type { IntegrationView } from './integrations.service.ts';
