import type { Generated, Insertable, Selectable } from 'kysely';

export type IssueStatus = 'draft' | 'sending' | 'paused' | 'sent';
/**
 * A delivery's life: `queued` → `sending` (claimed by a worker) → `sent` (the SMTP server accepted it) or
 * back to `queued` with a later `next_attempt_at` (a temporary failure), or `failed` (a permanent one).
 * `skipped`: the recipient unsubscribed or was erased before their turn. "Sent" means accepted by our SMTP
 * server, not delivered to the inbox.
 */
export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'skipped';

export interface NewsletterIssuesTable {
  id: Generated<number>;
  subject: string;
  article_ids: string;
  html: string;
  text: string;
  status: IssueStatus;
  recipient_count: Generated<number>;
  created_at: string;
  queued_at: string | null;
  finished_at: string | null;
}

export interface DeliveriesTable {
  id: Generated<number>;
  issue_id: number;
  subscriber_id: number | null;
  email: string;
  status: DeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: string;
  claimed_by: string | null;
  claimed_at: string | null;
  sent_at: string | null;
  message_id: string | null;
  last_error: string | null;
}

export interface NewslettersTables {
  newsletter_issues: NewsletterIssuesTable;
  deliveries: DeliveriesTable;
}

export type IssueRow = Selectable<NewsletterIssuesTable>;
export type NewIssue = Insertable<NewsletterIssuesTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
