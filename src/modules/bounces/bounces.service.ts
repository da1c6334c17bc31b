import { createHash } from 'node:crypto';
import { type Db, inTransaction } from '../../db/index.ts';
import { messageIdDeliveriesIn, verpDeliveriesIn } from '../mail/index.ts';
import { deliveryForBounce } from '../newsletters/index.ts';
import { applyDeliverabilityEvent, type DeliverabilityOutcome } from '../subscribers/index.ts';
import { type BounceReport, readBounce } from './bounces.parse.ts';
import { countSoftBounces, insertBounceEvent, quarantineMessage } from './bounces.repository.ts';
import type { BounceKind, QuarantineReason } from './bounces.table.ts';

export interface BounceServiceDeps {
  db: Db;
  /** The secret key: VERP tags and Message-IDs are checked against it. */
  secret: string;
  /** The suppression-list hash of an address key (openEmailHasher). */
  emailHash: (emailKey: string) => string;
  /** BOUNCE_SOFT_LIMIT: soft bounces within `softWindowDays` that suppress. */
  softLimit: number;
  now: () => Date;
}

/** Soft bounces count over this many days. */
export const softWindowDays = 30;

/** The most of a quarantined message kept for review. */
const maxQuarantinedChars = 256 * 1024;

export type IngestOutcome =
  | { action: 'ignored'; report: BounceReport }
  | { action: 'quarantined'; report: BounceReport; reason: QuarantineReason; quarantineId: number; repeated: boolean }
  | { action: 'duplicate'; report: BounceReport; kind: BounceKind; deliveryId: number }
  | {
      action: 'recorded';
      report: BounceReport;
      kind: BounceKind;
      deliveryId: number;
      issueId: number;
      subscriber: DeliverabilityOutcome;
      softCount: number;
    };

/**
 * Reads one returned message and acts on it. Auto-replies, delivery reports and what is no bounce change
 * nothing. A bounce or complaint acts only on the delivery its signed tag names — VERP in the envelope
 * recipient or anywhere in the message, or the Message-ID of the original it quotes — and only when every
 * genuine tag in it names the same delivery: anything else is kept in the quarantine for review and
 * changes nothing. `envelopeRecipient` is the address the message was delivered to, when the caller knows
 * it (a Postfix pipe's `${original_recipient}`).
 */
export async function ingestBounce(
  deps: BounceServiceDeps,
  raw: Buffer,
  envelopeRecipient?: string,
): Promise<IngestOutcome> {
  const report = await readBounce(raw);
  if (report.class === 'auto-reply' || report.class === 'ignored') return { action: 'ignored', report };
  const kind: BounceKind = report.class;

  const texts = [envelopeRecipient ?? '', ...report.searchable];
  const deliveries = new Set<number>();
  let forged = 0;
  for (const text of texts) {
    for (const found of [verpDeliveriesIn(deps.secret, text), messageIdDeliveriesIn(deps.secret, text)]) {
      for (const id of found.deliveries) deliveries.add(id);
      forged += found.forged;
    }
  }
  const at = deps.now().toISOString();
  const quarantine = async (reason: QuarantineReason): Promise<IngestOutcome> => {
    const kept = await quarantineMessage(deps.db, {
      message_hash: createHash('sha256').update(raw).digest('hex'),
      reason,
      class: report.class,
      summary: report.summary.slice(0, 500),
      subject: report.subject,
      sender: report.from,
      message: raw.toString('latin1').slice(0, maxQuarantinedChars),
      received_at: at,
    });
    return { action: 'quarantined', report, reason, quarantineId: kept.id, repeated: kept.repeated };
  };
  if (deliveries.size === 0) return quarantine(forged > 0 ? 'forged_tag' : 'no_tag');
  // Two genuine tags naming different deliveries (a forwarded report, a reply quoting another issue): never guess.
  if (deliveries.size > 1) return quarantine('conflicting_tags');
  const delivery = await deliveryForBounce(deps.db, [...deliveries][0]!);
  if (!delivery) return quarantine('unknown_delivery');

  return inTransaction(deps.db, async (trx): Promise<IngestOutcome> => {
    const isNew = await insertBounceEvent(trx, {
      delivery_id: delivery.deliveryId,
      issue_id: delivery.issueId,
      subscriber_id: delivery.subscriberId,
      kind,
      status: report.status,
      feedback_type: report.feedbackType,
      detail: report.summary.slice(0, 500),
      created_at: at,
    });
    if (!isNew) return { action: 'duplicate', report, kind, deliveryId: delivery.deliveryId };
    const base = {
      action: 'recorded' as const,
      report,
      kind,
      deliveryId: delivery.deliveryId,
      issueId: delivery.issueId,
    };
    if (delivery.subscriberId === null)
      return { ...base, subscriber: { found: false, suppressed: false, unsubscribed: false }, softCount: 0 };
    const since = new Date(Date.parse(at) - softWindowDays * 86_400_000).toISOString();
    const softCount = kind === 'soft' ? await countSoftBounces(trx, delivery.subscriberId, since) : 0;
    const subscriber = await applyDeliverabilityEvent(trx, deps.emailHash, {
      subscriberId: delivery.subscriberId,
      kind,
      issueId: delivery.issueId,
      deliveryId: delivery.deliveryId,
      status: report.status,
      feedbackType: report.feedbackType,
      detail: report.summary,
      limitReached: softCount >= deps.softLimit,
      at,
    });
    return { ...base, subscriber, softCount };
  });
}

/** The one line `gazette bounces ingest` prints: what the message was, and what it did. */
export function describeOutcome(outcome: IngestOutcome, softLimit: number): string {
  const { report } = outcome;
  const what =
    report.class === 'complaint'
      ? `complaint (${report.feedbackType ?? 'abuse'})`
      : report.class === 'auto-reply'
        ? 'auto-reply'
        : report.class === 'ignored'
          ? report.summary
          : `${report.class} bounce (${report.summary || 'no detail'})`;
  switch (outcome.action) {
    case 'ignored':
      return `${what}: ignored, nothing changed.`;
    case 'quarantined': {
      const why = {
        no_tag: 'no signed tag ties it to a delivery',
        forged_tag: 'its tag is not genuine (forged or altered)',
        conflicting_tags: 'its tags name different deliveries',
        unknown_delivery: 'the delivery it names no longer exists',
      }[outcome.reason];
      return `${what}: ${why}; kept for review as quarantined message ${outcome.quarantineId}${outcome.repeated ? ' (already kept)' : ''}, nothing changed.`;
    }
    case 'duplicate':
      return `${what} for delivery ${outcome.deliveryId}: already counted, nothing changed.`;
    case 'recorded': {
      const s = outcome.subscriber;
      const did = !s.found
        ? 'the subscriber was erased, nothing to change'
        : [
            s.unsubscribed ? 'unsubscribed' : '',
            s.suppressed
              ? 'address suppressed'
              : outcome.kind === 'soft'
                ? `soft bounce ${outcome.softCount} of ${softLimit} in ${softWindowDays} days`
                : 'already unsubscribed',
          ]
            .filter(Boolean)
            .join(' and ');
      return `${what} for delivery ${outcome.deliveryId} of issue ${outcome.issueId}: ${did}.`;
    }
  }
}
