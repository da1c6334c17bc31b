import { newClaimantId } from '../../db/claimants.ts';
import type { Db } from '../../db/index.ts';
import { createRunner, type JobKind, type Outcome, type Settled } from '../../jobs/runner.ts';
import { escapeHtml } from '../../ui/html.ts';
import { createMessageIds, type PreparedMime, prepareMime, renderMimeChunks, type Slot } from '../mail/index.ts';
import { type MailTransport, type SendOutcome, serverTroubleLine } from '../mail/index.ts';
import { type IssueTemplate, personalise, prepareTemplate } from './newsletters.compose.ts';
import {
  addHardBounce,
  claimDeliveries,
  type ClaimedDelivery,
  deliveriesChannel,
  findConfirmedSubscriberKeys,
  findIssue,
  findSuppressedHashes,
  finishIssues,
  insertSuppression,
  listClaimants,
  markFailed,
  markRetry,
  markSentMany,
  markSkipped,
  releaseClaims,
  releaseStaleClaims,
  renewClaims,
} from './newsletters.repository.ts';

/** The links one recipient's copy carries (built by the subscribers module from a signed token). */
export interface RecipientLinkSet {
  unsubscribeUrl: string;
  unsubscribeMailto: string;
  manageUrl: string;
}

export interface DeliveryWorkerDeps {
  db: Db;
  transport: MailTransport;
  links: (subscriberId: number) => RecipientLinkSet;
  /** The suppression-list hash of an address key (`subscribers.email_key`). */
  emailHash: (emailKey: string) => string;
  /** RFC 2919 List-Id, e.g. `newsletter.example.com` (nodemailer adds the angle brackets). */
  listId: string;
  /** Right-hand side of Message-IDs: the site's host name. */
  messageIdDomain: string;
  /** The secret key: Message-IDs carry a tag keyed with it (see createMessageIds). */
  secret: string;
  /** The envelope sender (MAIL FROM) of a delivery's message, e.g. its VERP address; the transport's own when absent. */
  envelopeSender?: (deliveryId: number) => string;
  /** Messages in flight at once: also the most that a crash can duplicate. */
  concurrency: number;
  /** Ceiling on messages per second; 0 for none. */
  ratePerSecond: number;
  options?: Partial<DeliveryWorkerOptions>;
  /** PostgreSQL's connection string: the worker LISTENs there to start as soon as an issue is queued. */
  listenUrl?: string | undefined;
  now?: () => Date;
  log?: (line: string) => void;
  /** Called after each recorded outcome (progress bars). */
  onOutcome?: (outcome: DeliveryOutcome) => void;
}

export interface DeliveryWorkerOptions {
  /** `hostname:pid:random`, written into each claim. */
  workerId: string;
  /**
   * Deliveries claimed per statement. The runner claims the next batch while the lanes send the second half
   * of this one, so they need not wait for it (a claim of 1,000 rows and its recipients' re-check: ~40 to
   * 100 ms on PostgreSQL). A crash leaves up to a batch and a half claimed until the sweep: delayed, never
   * duplicated.
   */
  batchSize: number;
  /** A claim not renewed for this long belongs to a dead worker and goes back to the queue. */
  leaseMs: number;
  /** First retry delay after a temporary failure; doubles per attempt, capped at an hour. */
  retryBaseMs: number;
  /** Attempts before a delivery that keeps failing temporarily is marked failed. */
  maxAttempts: number;
  /** First pause when the server is down; doubles up to pauseMaxMs while it stays down. */
  pauseBaseMs: number;
  pauseMaxMs: number;
  /** Consecutive temporary failures (of any recipients) taken to mean the server is in trouble. */
  pauseAfterTemporaryFailures: number;
  /** Idle poll interval when nothing is due (retries, a stopped worker's claims); queued issues wake it at once. */
  pollMs: number;
  /** Hard bounces after which an address is suppressed. */
  hardBouncesToSuppress: number;
  /** Accepted messages are recorded in one statement at most this often (a group commit; see the runner). */
  recordGroupMs: number;
}

export type DeliveryOutcome = 'sent' | 'retry' | 'failed' | 'skipped' | 'paused';

export interface DeliveryWorker {
  readonly id: string;
  /** Claims one batch and works it to the end; resolves with how many deliveries it claimed. */
  runOnce(): Promise<number>;
  /** Works the queue in the background until `stop()`. */
  start(): void;
  /** Stops taking new deliveries, lets those in flight finish and be recorded, gives the rest back. */
  stop(): Promise<void>;
}

const defaults: Omit<DeliveryWorkerOptions, 'workerId'> = {
  batchSize: 1000,
  leaseMs: 60_000,
  retryBaseMs: 60_000,
  maxAttempts: 8,
  pauseBaseMs: 1_000,
  pauseMaxMs: 60_000,
  pauseAfterTemporaryFailures: 10,
  pollMs: 1_000,
  hardBouncesToSuppress: 3,
  recordGroupMs: 10,
};

/**
 * The delivery worker, a job kind on the shared runner (src/jobs/runner.ts), which sweeps claims of dead
 * workers back into the queue and runs the lanes. Its kind: claim a batch (`queued` → `sending`), re-check
 * each recipient is still confirmed and not suppressed (else `skipped`), send with at most `concurrency`
 * messages in flight, and record each outcome as soon as it is known (grouped by `recordGroupMs`):
 * `sent` with its Message-ID, `queued` again with a later `next_attempt_at` (4xx, timeout, dropped
 * connection), or `failed` (5xx; the subscriber's hard bounces counted, suppressed after three).
 *
 * Exactly once: a delivery is only sent while claimed, and recorded `sent` right after the server accepts
 * it. The one window for a duplicate is between the server's 250 reply and that record: a crash there
 * leaves the row `sending`, and it is sent again after the sweep. At most `concurrency` messages are in
 * that window at any moment.
 *
 * A dead server (connection refused, timeouts, or a run of temporary failures) pauses the worker with
 * exponential backoff; the deliveries it held go back to the queue untouched and nothing is lost.
 */
export function createDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const options: DeliveryWorkerOptions = { workerId: newClaimantId(), ...defaults, ...deps.options };
  const { db, transport } = deps;
  const now = () => deps.now?.() ?? new Date();
  const log = deps.log ?? (() => {});
  const templates = new Map<number, IssueTemplate & { mime: PreparedMime | undefined }>();
  const rate = createRateLimiter(deps.ratePerSecond);
  const messageIdFor = createMessageIds(deps.secret, deps.messageIdDomain);
  let consecutiveTemporary = 0;
  /** Deliveries refused permanently (5xx) and not yet recorded, with their address hash: each counts a hard bounce. */
  const bounced = new Map<number, string>();

  /**
   * What `prepare` reads for a batch: the suppression-list hash of each recipient still confirmed and not
   * suppressed, by delivery id (the others are `skipped`).
   */
  type Recipients = Map<number, string>;
  const kind: JobKind<ClaimedDelivery, string, Recipients> = {
    name: 'Deliveries',
    channel: deliveriesChannel,
    claim: ({ claimant, now: at, limit }) => claimDeliveries(db, claimant, at.toISOString(), limit),
    async prepare(claimed) {
      // Re-checked at send time: readers who unsubscribed, were erased or suppressed since the issue was queued.
      const confirmed = await findConfirmedSubscriberKeys(
        db,
        claimed.map((d) => d.subscriber_id).filter((s): s is number => s !== null),
      );
      const hashes = new Map<number, string>();
      for (const d of claimed) {
        const key = d.subscriber_id === null ? undefined : confirmed.get(d.subscriber_id);
        if (key !== undefined) hashes.set(d.id, deps.emailHash(key));
      }
      const suppressed = await findSuppressedHashes(db, [...hashes.values()]);
      const recipients: Recipients = new Map();
      for (const [deliveryId, hash] of hashes) if (!suppressed.has(hash)) recipients.set(deliveryId, hash);
      return recipients;
    },
    run: (delivery, { prepared }) => sendOne(delivery, prepared.get(delivery.id)),
    record: (settled, { claimant, now: at }) => record(settled, claimant, at),
    // Not the recipient's fault, nor another worker's: due at once (another worker's server may be up).
    release: (ids, { claimant }) => releaseClaims(db, ids, claimant, now().toISOString()),
    renew: (ids, { claimant, now: at }) => renewClaims(db, claimant, at.toISOString(), ids),
    listClaimants: () => listClaimants(db),
    async sweep({ staleBefore, deadClaimants, keep }) {
      const released = await releaseStaleClaims(db, staleBefore.toISOString(), deadClaimants, keep);
      if (released > 0) log(`Returned ${released} deliveries claimed by stopped workers to the queue.`);
    },
    // A full batch leaves more to claim, and the next claim that finds nothing finishes the issue: the
    // check (an index read that grows with the send on PostgreSQL) is needed after a short batch only,
    // or when stopping, as there will be no next claim.
    afterRound: async (_settled, round) => {
      if (!round.full || round.stopping) await finishIssues(db, now().toISOString());
    },
    describePause: (reason, seconds) => `${reason}; pausing for ${seconds} s (nothing is lost).`,
  };

  async function template(issueId: number): Promise<(IssueTemplate & { mime: PreparedMime | undefined }) | undefined> {
    let t = templates.get(issueId);
    if (!t) {
      const issue = await findIssue(db, issueId);
      if (!issue) return undefined;
      const prepared = prepareTemplate(issue);
      // Encoded once per issue for the bulk path; each recipient then adds only headers and four short values.
      const mime = transport.sendRaw ? prepareIssueMime(prepared) : undefined;
      t = { ...prepared, mime };
      templates.set(issueId, t);
    }
    return t;
  }

  /** Sends one delivery (`emailHash`: its recipient's, if still confirmed); the result is the Message-ID it went with. */
  async function sendOne(delivery: ClaimedDelivery, emailHash: string | undefined): Promise<Outcome<string>> {
    if (delivery.subscriber_id === null || emailHash === undefined) return noLongerSubscribed;
    const subscriberId = delivery.subscriber_id;
    const t = await template(delivery.issue_id);
    if (!t) return issueGone;
    await rate();
    const links = deps.links(subscriberId);
    const messageId = messageIdFor(`gazette.${delivery.issue_id}.${delivery.id}`);
    const envelopeFrom = deps.envelopeSender?.(delivery.id);
    let outcome: SendOutcome;
    try {
      if (t.mime && transport.sendRaw && /^[\x21-\x7e]+$/.test(delivery.email)) {
        const message = renderRecipientMessage(t.mime, {
          from: transport.from ?? '',
          to: delivery.email,
          messageId,
          date: now(),
          listId: deps.listId,
          links,
        });
        outcome = await transport.sendRaw(delivery.email, message, envelopeFrom);
      } else outcome = await sendComposed();
    } catch (error) {
      outcome = { kind: 'temporary', error: error instanceof Error ? error.message : String(error), serverDown: false };
    }
    async function sendComposed(): Promise<SendOutcome> {
      const template = t!;
      const body = personalise(template, links);
      return transport.send({
        to: delivery.email,
        subject: template.subject,
        html: body.html,
        text: body.text,
        messageId,
        list: { id: deps.listId, unsubscribeUrl: links.unsubscribeUrl, unsubscribeMailto: links.unsubscribeMailto },
        ...(envelopeFrom ? { envelopeFrom } : {}),
      });
    }
    switch (outcome.kind) {
      case 'accepted':
        consecutiveTemporary = 0;
        return { kind: 'done', result: messageId };
      case 'permanent':
        consecutiveTemporary = 0;
        bounced.set(delivery.id, emailHash);
        return { kind: 'failed', reason: `${outcome.responseCode} ${outcome.error}` };
      case 'temporary': {
        consecutiveTemporary++;
        const trouble = serverTroubleLine(outcome.sessionRefused);
        // Not this recipient's fault: back in the queue as it was, due as soon as the server returns.
        if (outcome.serverDown) return { kind: 'paused', reason: trouble };
        const pause = consecutiveTemporary >= options.pauseAfterTemporaryFailures ? trouble : undefined;
        if (delivery.attempts + 1 >= options.maxAttempts)
          return { kind: 'failed', reason: `gave up after ${delivery.attempts + 1} attempts: ${outcome.error}`, pause };
        const delay = Math.min(3_600_000, options.retryBaseMs * 2 ** delivery.attempts);
        return { kind: 'retry', at: new Date(Date.now() + delay), reason: outcome.error, pause };
      }
    }
  }

  /**
   * Records a group of outcomes. `sent` first and in one statement, before anything else: this is the
   * record that keeps a message from going out twice. A permanent refusal counts a hard bounce, and
   * suppresses the address after `hardBouncesToSuppress`.
   */
  async function record(
    settled: readonly Settled<ClaimedDelivery, string>[],
    claimant: string,
    at: Date,
  ): Promise<void> {
    const sent = new Map<number, string>();
    for (const { item, outcome } of settled) if (outcome.kind === 'done') sent.set(item.id, outcome.result);
    if (sent.size > 0) await markSentMany(db, sent, at.toISOString());
    if (sent.size === settled.length) {
      for (let i = 0; i < sent.size; i++) deps.onOutcome?.('sent');
      return;
    }
    // The rest, rarer, one by one, but the skipped (re-checked at claim time, often many) in one statement each reason.
    const skipped = new Map<string, number[]>();
    for (const { item, outcome } of settled) {
      if (outcome.kind !== 'skipped') continue;
      const ids = skipped.get(outcome.reason);
      if (ids) ids.push(item.id);
      else skipped.set(outcome.reason, [item.id]);
    }
    for (const [reason, ids] of skipped) await markSkipped(db, ids, reason);
    for (const { item, outcome } of settled) {
      switch (outcome.kind) {
        case 'done':
          deps.onOutcome?.('sent');
          continue;
        case 'skipped':
          break;
        case 'retry':
          await markRetry(db, item.id, claimant, outcome.reason, outcome.at.toISOString());
          break;
        case 'failed': {
          await markFailed(db, item.id, claimant, outcome.reason);
          const hash = bounced.get(item.id);
          bounced.delete(item.id);
          if (item.subscriber_id !== null && hash !== undefined) {
            if ((await addHardBounce(db, item.subscriber_id)) >= options.hardBouncesToSuppress) {
              await insertSuppression(db, hash, 'bounced', at.toISOString());
              log(`Suppressed subscriber ${item.subscriber_id} after ${options.hardBouncesToSuppress} hard bounces.`);
            }
          }
          break;
        }
        case 'paused':
          continue; // never recorded: given back by the runner
      }
      deps.onOutcome?.(outcome.kind);
    }
  }

  /*
   * Exactly once: each lane waits for its delivery's record before it sends again, so at most `concurrency`
   * accepted messages are ever unrecorded (what a crash could send twice); the records are grouped by time
   * (recordGroupMs; measured: 5 ms cost ~15% more CPU per message on both databases at the same rate).
   */
  const runner = createRunner(kind, {
    listenUrl: deps.listenUrl,
    now,
    log: { info: log, warn: log },
    options: {
      claimant: options.workerId,
      lanes: Math.max(1, deps.concurrency),
      batchSize: options.batchSize,
      leaseMs: options.leaseMs,
      pollMs: options.pollMs,
      pauseBaseMs: options.pauseBaseMs,
      pauseMaxMs: options.pauseMaxMs,
      recordGroupMs: options.recordGroupMs,
    },
  });

  return {
    id: runner.claimant,
    runOnce: async () => (await runner.runOnce()).claimed,
    start: () => runner.start(),
    stop: () => runner.stop(),
  };
}

const noLongerSubscribed: Outcome<string> = { kind: 'skipped', reason: 'no longer subscribed' };
const issueGone: Outcome<string> = { kind: 'skipped', reason: 'issue or subscriber gone' };

/** An issue's MIME for the bulk path (`sendRaw`), encoded once per issue. */
export function prepareIssueMime(template: IssueTemplate): PreparedMime {
  return prepareMime({
    subject: template.subject,
    text: slotted(template.textParts),
    html: slotted(template.htmlParts),
  });
}

/** One recipient's message on the bulk path, as the Buffers to write (see mail.mime.ts). */
export function renderRecipientMessage(
  mime: PreparedMime,
  r: { from: string; to: string; messageId: string; date: Date; listId: string; links: RecipientLinkSet },
): Buffer[] {
  const { links } = r;
  return renderMimeChunks(mime, {
    from: r.from,
    to: r.to,
    messageId: r.messageId,
    date: r.date,
    list: { id: r.listId, unsubscribeUrl: links.unsubscribeUrl, unsubscribeMailto: links.unsubscribeMailto },
    slots: {
      unsubscribe: { text: links.unsubscribeUrl, html: escapeHtml(links.unsubscribeUrl) },
      manage: { text: links.manageUrl, html: escapeHtml(links.manageUrl) },
    },
  });
}

/** An issue part split at unsubscribe, then manage, placeholders → [segment, slot, segment, …]. */
function slotted(parts: string[][]): string[] {
  const out: string[] = [];
  parts.forEach((inner, i) => {
    inner.forEach((segment, j) => {
      out.push(segment);
      if (j < inner.length - 1) out.push('manage' satisfies Slot);
    });
    if (i < parts.length - 1) out.push('unsubscribe' satisfies Slot);
  });
  return out;
}

/** Spaces sends evenly at `perSecond` (0: no limit). */
function createRateLimiter(perSecond: number): () => Promise<void> {
  if (perSecond <= 0) return () => Promise.resolve();
  const interval = 1000 / perSecond;
  let nextSlot = 0;
  return async () => {
    const at = Date.now();
    const slot = Math.max(at, nextSlot);
    nextSlot = slot + interval;
    if (slot > at) await new Promise((resolve) => setTimeout(resolve, slot - at));
  };
}
