import type { Generated, Insertable, Selectable } from 'kysely';

/** What a bounce or complaint did: `hard` and `complaint` suppress at once, `soft` counts (BOUNCE_SOFT_LIMIT). */
export type BounceKind = 'hard' | 'soft' | 'complaint';

/** One acted-on bounce or complaint per delivery and kind (20261204170000_bounces). */
export interface BounceEventsTable {
  id: Generated<number>;
  delivery_id: number;
  issue_id: number;
  subscriber_id: number | null;
  kind: BounceKind;
  status: string | null;
  feedback_type: string | null;
  detail: string;
  created_at: string;
}

/** Why a message was kept for review instead of acted on. */
export type QuarantineReason = 'no_tag' | 'forged_tag' | 'conflicting_tags' | 'unknown_delivery';

export interface BounceQuarantineTable {
  id: Generated<number>;
  message_hash: string;
  reason: QuarantineReason;
  class: string;
  summary: string;
  subject: string;
  sender: string;
  message: string;
  received_at: string;
}

export interface BouncesTables {
  bounce_events: BounceEventsTable;
  bounce_quarantine: BounceQuarantineTable;
}

export type BounceEventRow = Selectable<BounceEventsTable>;
export type NewBounceEvent = Insertable<BounceEventsTable>;
export type QuarantineRow = Selectable<BounceQuarantineTable>;
export type NewQuarantine = Insertable<BounceQuarantineTable>;
