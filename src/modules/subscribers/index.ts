// What other parts of Gazette may use of the subscribers module (docs/ARCHITECTURE.md, "Modules and borders").
export { applyDeliverabilityEvent } from './subscribers.bounces.ts';
export type { DeliverabilityOutcome } from './subscribers.bounces.ts';
export { subscribersCommand } from './subscribers.cli.ts';
export { SubscriberImports } from './subscribers.imports.ts';
export { createSubscriberMailer } from './subscribers.mailer.ts';
export { subscriberGrowthChart } from './subscribers.newsroom.pages.ts';
export { subscriberNewsroomRoutes } from './subscribers.newsroom.routes.ts';
export { subscriberRoutes } from './subscribers.routes.ts';
export { normaliseEmail } from './subscribers.schema.ts';
export {
  openEmailHasher,
  SignupRateLimiter,
  subscriberCountsByStatus,
  subscriberGrowth,
  SubscriberService,
} from './subscribers.service.ts';
export type { SubscriberStatus } from './subscribers.table.ts';
export { createSubscriberTokens } from './subscribers.tokens.ts';
