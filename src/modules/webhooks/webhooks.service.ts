import { randomBytes } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import type { SecretSealer } from '../settings/index.ts';
import { parseEventList, receives, type WebhookEvent } from './webhooks.events.ts';
import {
  countDeliveriesByEndpoint,
  deleteEndpoint,
  findEndpoint,
  insertDeliveries,
  insertEndpoint,
  listAttempts,
  listEndpoints,
  listEndpointSubscriptions,
  listRecentDeliveries,
  type NewDelivery,
  replaceEndpointSecret,
} from './webhooks.repository.ts';
import { isPublicAddress } from './webhooks.request.ts';
import type { DeliveryStatus, WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow } from './webhooks.table.ts';

/** After a rotation the old secret still signs (as a second signature) for this long, so receivers can switch. */
export const previousSecretGraceMs = 24 * 60 * 60 * 1000;

const maxUrlLength = 2000;

/** A new Standard Webhooks secret: `whsec_` and 32 random bytes in base64 (the spec allows 24 to 64). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Queues `events` for every endpoint that receives them, in the caller's transaction `trx`: the event is
 * written with the change that caused it, so a crash loses neither or both, and a retried change that
 * rolled back sends nothing. Call it after the change's own UPDATE: the row lock that statement takes
 * orders two changes of one subject, and with it the ids of their deliveries (the order they go out in).
 */
export async function emitWebhookEvents(trx: Db, events: readonly WebhookEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  const endpoints = (await listEndpointSubscriptions(trx)).map((e) => ({
    id: e.id,
    events: parseStoredEvents(e.events),
  }));
  if (endpoints.length === 0) return;
  const at = now.toISOString();
  const rows: NewDelivery[] = [];
  for (const event of events) {
    const receivers = endpoints.filter((e) => receives(e.events, event.type));
    if (receivers.length === 0) continue;
    // One message id per event: the same on every attempt and to every endpoint (Standard Webhooks `webhook-id`).
    const messageId = `msg_${randomBytes(16).toString('hex')}`;
    const payload = JSON.stringify({ type: event.type, timestamp: at, data: event.data });
    for (const endpoint of receivers)
      rows.push({
        endpoint_id: endpoint.id,
        message_id: messageId,
        event: event.type,
        subject: event.subject,
        payload,
        next_attempt_at: at,
        created_at: at,
      });
  }
  await insertDeliveries(trx, rows);
}

function parseStoredEvents(json: string): string[] {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((e): e is string => typeof e === 'string') : [];
  } catch {
    return [];
  }
}

/** An endpoint as the newsroom and the command line show it (never its secret). */
export interface EndpointView {
  id: number;
  url: string;
  events: string[];
  allowPrivate: boolean;
  createdBy: string;
  createdAt: string;
  /** Until when the previous secret still signs, after a rotation. */
  previousSecretUntil: string | null;
  counts: Record<DeliveryStatus, number>;
}

export interface DeliveryView extends WebhookDeliveryRow {
  log: WebhookAttemptRow[];
}

export interface WebhookServiceDeps {
  db: Db;
  sealer: SecretSealer;
  now: () => Date;
}

/** Endpoints: register, list, rotate the secret, remove; and the log of their deliveries. */
export class WebhookService {
  readonly #deps: WebhookServiceDeps;

  constructor(deps: WebhookServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Registers an endpoint; resolves with its id and its secret, shown once (only a sealed copy is kept). An
   * address written as a private IP, or a `localhost` name, is refused here unless allowed; every delivery
   * checks the address it resolves to again at connect time.
   */
  async register(input: {
    url: string;
    events: readonly string[];
    allowPrivate: boolean;
    createdBy: string;
  }): Promise<{ id: number; secret: string }> {
    const url = checkEndpointUrl(input.url, input.allowPrivate);
    const parsed = parseEventList(input.events);
    if (!parsed.ok) throw new AppError('webhook.unknown_event', `“${parsed.unknown}” is not an event Gazette sends.`);
    if (parsed.events.length === 0) throw new AppError('webhook.no_events');
    const secret = newWebhookSecret();
    const id = await insertEndpoint(this.#deps.db, {
      url,
      events: JSON.stringify(parsed.events),
      secret_sealed: this.#deps.sealer.seal(secret),
      previous_secret_sealed: null,
      previous_secret_until: null,
      allow_private: input.allowPrivate ? 1 : 0,
      created_by: input.createdBy,
      created_at: this.#deps.now().toISOString(),
    });
    return { id, secret };
  }

  async list(): Promise<EndpointView[]> {
    const [rows, counts] = await Promise.all([listEndpoints(this.#deps.db), countDeliveriesByEndpoint(this.#deps.db)]);
    return rows.map((row) => toView(row, counts.get(Number(row.id))));
  }

  async get(id: number): Promise<EndpointView> {
    const row = await findEndpoint(this.#deps.db, id);
    if (!row) throw new AppError('webhook.not_found');
    return toView(row, (await countDeliveriesByEndpoint(this.#deps.db)).get(id));
  }

  /**
   * A new secret, shown once. Deliveries from now on carry two signatures, under the new and the old secret,
   * for a day (Standard Webhooks allows several, space-separated), so a receiver can switch without losing any.
   */
  async rotate(id: number): Promise<{ secret: string; previousValidUntil: string }> {
    const row = await findEndpoint(this.#deps.db, id);
    if (!row) throw new AppError('webhook.not_found');
    const secret = newWebhookSecret();
    const until = new Date(this.#deps.now().getTime() + previousSecretGraceMs).toISOString();
    if (
      !(await replaceEndpointSecret(this.#deps.db, id, {
        sealed: this.#deps.sealer.seal(secret),
        previousSealed: row.secret_sealed,
        previousUntil: until,
      }))
    ) {
      throw new AppError('webhook.not_found');
    }
    return { secret, previousValidUntil: until };
  }

  /** Removes the endpoint, its queued deliveries and its log. */
  async remove(id: number): Promise<void> {
    if (!(await deleteEndpoint(this.#deps.db, id))) throw new AppError('webhook.not_found');
  }

  /** The endpoint's latest deliveries, newest first, each with its attempts. */
  async recentDeliveries(id: number, limit = 20): Promise<DeliveryView[]> {
    const deliveries = await listRecentDeliveries(this.#deps.db, id, limit);
    const attempts = await listAttempts(
      this.#deps.db,
      deliveries.map((d) => Number(d.id)),
    );
    return deliveries.map((d) => ({ ...d, log: attempts.filter((a) => Number(a.delivery_id) === Number(d.id)) }));
  }
}

function toView(row: WebhookEndpointRow, counts: Record<DeliveryStatus, number> | undefined): EndpointView {
  return {
    id: Number(row.id),
    url: row.url,
    events: parseStoredEvents(row.events),
    allowPrivate: Number(row.allow_private) === 1,
    createdBy: row.created_by,
    createdAt: row.created_at,
    previousSecretUntil: row.previous_secret_until,
    counts: counts ?? { queued: 0, sending: 0, delivered: 0, failed: 0 },
  };
}

/** The endpoint's URL, normalised; refuses what could never be a webhook receiver. */
export function checkEndpointUrl(input: string, allowPrivate: boolean): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new AppError('webhook.invalid_url');
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.username !== '' ||
    url.password !== '' ||
    url.href.length > maxUrlLength ||
    url.hash !== ''
  ) {
    throw new AppError('webhook.invalid_url');
  }
  if (!allowPrivate) {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const literal = ipaddr.isValid(host) || /^\d+$/.test(host);
    if ((literal && !isPublicAddress(host)) || host === 'localhost' || host.endsWith('.localhost'))
      throw new AppError('webhook.private_address');
  }
  return url.href;
}
