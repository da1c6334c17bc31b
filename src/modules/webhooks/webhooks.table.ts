import type { Generated, Selectable } from 'kysely';

/** Where a delivery is: waiting (perhaps for a retry), being sent, received (a 2xx), or given up. */
export type DeliveryStatus = 'queued' | 'sending' | 'delivered' | 'failed';

export interface WebhookEndpointsTable {
  id: Generated<number>;
  url: string;
  /** JSON array of the events it receives: names (`post.published`) or a group (`page.*`). */
  events: string;
  /** The Standard Webhooks secret (`whsec_…`), sealed with the secret key (settings/sealed-secrets.ts). */
  secret_sealed: string;
  /** After a rotation, deliveries carry a signature under the old secret too, until this time. */
  previous_secret_sealed: string | null;
  previous_secret_until: string | null;
  /** 1: an admin allowed private, loopback and link-local addresses for this endpoint. */
  allow_private: number;
  created_by: string;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  endpoint_id: number;
  /** The `webhook-id` header: the same on every attempt, so a receiver can drop a repeat. */
  message_id: string;
  event: string;
  /** What the event is about (`post:12`): one subject's deliveries to an endpoint go out in order. */
  subject: string;
  /** JSON `{ type, timestamp, data }`, written with the change that caused the event. */
  payload: string;
  status: DeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: string;
  claimed_by: string | null;
  claimed_at: string | null;
  created_at: string;
  finished_at: string | null;
  last_status: number | null;
  last_duration_ms: number | null;
  last_error: string | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  attempted_at: string;
  /** The HTTP status, or null when there was no answer (refused, timed out, a private address). */
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  /** The start of the answer's body (at most 1,000 characters), only ever shown escaped. */
  response_excerpt: string | null;
}

export interface WebhooksTables {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;
