import type { Db } from '../../db/index.ts';
import {
  findSubscriberById,
  insertConsentEvents,
  insertSuppression,
  unsubscribeSubscriber,
} from './subscribers.repository.ts';

/**
 * What a bounce or complaint does to a subscriber (src/modules/bounces decides which, and when a soft
 * bounce reaches the limit): a `bounced` or `complained` event in their consent record, attributed to the
 * issue and delivery; suppression of the address (never mailed again; a later sign-up of it is dropped, as
 * for an erased one); and for a complaint, the end of the subscription. The status stays `confirmed` after
 * a bounce: the reader withdrew nothing, their mailbox failed.
 */
export interface DeliverabilityEvent {
  subscriberId: number;
  kind: 'hard' | 'soft' | 'complaint';
  issueId: number;
  deliveryId: number;
  status: string | null;
  feedbackType: string | null;
  /** The server's words, short. */
  detail: string;
  /** A soft bounce that reached BOUNCE_SOFT_LIMIT suppresses too. */
  limitReached: boolean;
  at: string;
}

export interface DeliverabilityOutcome {
  /** False when the subscriber is gone (erased): nothing to change. */
  found: boolean;
  suppressed: boolean;
  unsubscribed: boolean;
}

/** Applies one bounce or complaint, inside the caller's transaction `trx`. */
export async function applyDeliverabilityEvent(
  trx: Db,
  emailHash: (emailKey: string) => string,
  event: DeliverabilityEvent,
): Promise<DeliverabilityOutcome> {
  const subscriber = await findSubscriberById(trx, event.subscriberId);
  if (!subscriber) return { found: false, suppressed: false, unsubscribed: false };
  const hash = emailHash(subscriber.email_key);
  // An opt-out report is the reader's unsubscribe request: honoured, but they may sign up again later.
  const suppress =
    event.kind === 'hard' ||
    (event.kind === 'soft' && event.limitReached) ||
    (event.kind === 'complaint' && event.feedbackType !== 'opt-out');
  const unsubscribed = event.kind === 'complaint' ? await unsubscribeSubscriber(trx, subscriber.id, event.at) : false;
  if (suppress) await insertSuppression(trx, hash, event.kind === 'complaint' ? 'complained' : 'bounced', event.at);
  await insertConsentEvents(trx, [
    {
      subscriber_id: subscriber.id,
      email_hash: hash,
      kind: event.kind === 'complaint' ? 'complained' : 'bounced',
      detail: JSON.stringify({
        ...(event.kind === 'complaint'
          ? { feedbackType: event.feedbackType }
          : { bounce: event.kind, status: event.status }),
        issue: event.issueId,
        delivery: event.deliveryId,
        server: event.detail.slice(0, 300),
        suppressed: suppress,
        unsubscribed,
      }),
      created_at: event.at,
    },
  ]);
  return { found: true, suppressed: suppress, unsubscribed };
}
