// What other parts of Gazette may use of the webhooks module (docs/ARCHITECTURE.md, "Modules and borders").
export { webhookCommand } from './webhooks.cli.ts';
export { createWebhookDispatcher, defaultDispatcherOptions } from './webhooks.dispatcher.ts';
export type { WebhookDispatcher, WebhookDispatcherOptions } from './webhooks.dispatcher.ts';
export { parseEventList, webhookEventNames } from './webhooks.events.ts';
export type { WebhookEvent, WebhookEventName } from './webhooks.events.ts';
export { isPublicAddress } from './webhooks.request.ts';
export { webhookNewsroomRoutes } from './webhooks.routes.ts';
export { emitWebhookEvents, WebhookService } from './webhooks.service.ts';
