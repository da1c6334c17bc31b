// What other parts of Gazette may use of the health module (docs/ARCHITECTURE.md, "Modules and borders").
export { healthRoutes } from './health.routes.ts';
export { createReadinessCheck } from './health.service.ts';
