// What other parts of Gazette may use of the newsletters module (docs/ARCHITECTURE.md, "Modules and borders").
export { newsletterCommand, openDelivery } from './newsletters.cli.ts';
export { newsletterNewsroomRoutes } from './newsletters.newsroom.routes.ts';
export { newsletterRoutes } from './newsletters.routes.ts';
export { deliveryForBounce, listIssuesWithCounts } from './newsletters.service.ts';
