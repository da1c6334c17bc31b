/**
 * The events an endpoint can receive. `page.*` events are accepted by name before Gazette has static
 * pages, so an endpoint registered now receives them once pages exist.
 */
export const webhookEventNames = [
  'post.published',
  'post.updated',
  'post.unpublished',
  'post.deleted',
  'page.published',
  'page.updated',
  'page.unpublished',
  'page.deleted',
  'subscriber.confirmed',
  'subscriber.unsubscribed',
  'newsletter.sent',
] as const;

export type WebhookEventName = (typeof webhookEventNames)[number];

const groups = new Set(webhookEventNames.map((name) => name.split('.')[0]));

/**
 * What a module that owns an event hands over, in the transaction of the change: the event, what it is about
 * (`post:12`, so that one subject's events reach each endpoint in order), and its data. A `path` on an
 * object of `data` (`/articles/x`) is sent with its absolute `url` beside it.
 */
export interface WebhookEvent {
  type: WebhookEventName;
  subject: string;
  data: Record<string, unknown>;
}

/**
 * Parses a list of event names (`post.published,page.*`): each a known name or a group's `*`. Returns the
 * names in a stable order, or the first unknown one.
 */
export function parseEventList(
  input: readonly string[],
): { ok: true; events: string[] } | { ok: false; unknown: string } {
  const events = new Set<string>();
  for (const raw of input.flatMap((part) => part.split(','))) {
    const name = raw.trim();
    if (name === '') continue;
    const known =
      (webhookEventNames as readonly string[]).includes(name) || (name.endsWith('.*') && groups.has(name.slice(0, -2)));
    if (!known) return { ok: false, unknown: name };
    events.add(name);
  }
  return { ok: true, events: [...events].sort() };
}

/** Whether an endpoint subscribed to `events` receives `type`. */
export function receives(events: readonly string[], type: string): boolean {
  return events.includes(type) || events.includes(`${type.split('.')[0]}.*`);
}
