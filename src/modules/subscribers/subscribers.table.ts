import type { Generated, Insertable, Selectable } from 'kysely';

/** `pending` until the confirmation link is followed; only `confirmed` subscribers receive newsletters. */
export type SubscriberStatus = 'pending' | 'confirmed' | 'unsubscribed';
/** `bounced` and `complained` come from mail servers (src/modules/bounces), not from the reader's own hand. */
export type ConsentEventKind = 'signup' | 'confirmed' | 'withdrawn' | 'imported' | 'erased' | 'bounced' | 'complained';

export interface SubscribersTable {
  id: Generated<number>;
  email: string;
  email_key: string;
  name: string | null;
  status: SubscriberStatus;
  source: 'form' | 'import';
  confirm_nonce: string | null;
  confirm_sent_at: string | null;
  hard_bounce_count: Generated<number>;
  created_at: string;
  confirmed_at: string | null;
  unsubscribed_at: string | null;
}

/** Append-only: rows are inserted, never updated (erasure only detaches them from the subscriber row). */
export interface ConsentEventsTable {
  id: Generated<number>;
  subscriber_id: number | null;
  email_hash: string;
  kind: ConsentEventKind;
  terms_version: number | null;
  terms_hash: string | null;
  privacy_version: number | null;
  privacy_hash: string | null;
  form_wording: string | null;
  source_url: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string | null;
  created_at: string;
}

/** Addresses never to be mailed again, kept only as a hash. */
export interface SuppressionsTable {
  email_hash: string;
  reason: 'erased' | 'bounced' | 'complained';
  created_at: string;
}

/**
 * What a subscriber mail says: `confirm` carries the double opt-in link; `already_subscribed` answers a
 * sign-up for an address that is confirmed already.
 */
export type SubscriberMailKind = 'confirm' | 'already_subscribed';
/**
 * A subscriber mail's life, as a delivery's: `queued` → `sending` (claimed) → `sent` (accepted by our SMTP
 * server), back to `queued` later (a temporary failure), `failed` (a permanent one), or `skipped` (a newer
 * sign-up sent a newer link, or the subscriber's status changed before its turn).
 */
export type SubscriberMailStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'skipped';

/** The queue of subscriber mails, written in the sign-up's transaction. */
export interface SubscriberMailsTable {
  id: Generated<number>;
  subscriber_id: number;
  kind: SubscriberMailKind;
  confirm_nonce: string | null;
  status: SubscriberMailStatus;
  attempts: Generated<number>;
  next_attempt_at: string;
  claimed_by: string | null;
  claimed_at: string | null;
  sent_at: string | null;
  message_id: string | null;
  last_error: string | null;
  created_at: string;
}

export interface SubscribersTables {
  subscribers: SubscribersTable;
  consent_events: ConsentEventsTable;
  suppressions: SuppressionsTable;
  subscriber_mails: SubscriberMailsTable;
  subscriber_imports: SubscriberImportsTable;
}

/** A newsroom CSV import (20261204143000_subscriber_imports). */
export interface SubscriberImportsTable {
  id: Generated<number>;
  status: 'running' | 'done' | 'failed';
  file_name: string;
  source: string;
  started_by: string;
  started_at: string;
  finished_at: string | null;
  size: number | string;
  bytes_read: number | string;
  rows: number;
  summary: string | null;
  bad_rows: string;
  error: string | null;
  claimed_by: string | null;
  heartbeat_at: string | null;
}

export type SubscriberRow = Selectable<SubscribersTable>;
export type NewSubscriber = Insertable<SubscribersTable>;
export type ConsentEventRow = Selectable<ConsentEventsTable>;
export type NewConsentEvent = Insertable<ConsentEventsTable>;
export type NewSubscriberMail = Insertable<SubscriberMailsTable>;
