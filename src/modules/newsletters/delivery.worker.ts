import { isDeadLocalClaimant, newClaimantId, settleOwedWrites } from '../../db/claimants.ts';
import type { Db } from '../../db/index.ts';
import { escapeHtml } from '../../ui/html.ts';
import { createMessageIds, type PreparedMime, prepareMime, renderMimeChunks, type Slot } from '../mail/index.ts';
import { type MailTransport, type SendOutcome, serverTroubleLine } from '../mail/index.ts';
import { type IssueTemplate, personalise, prepareTemplate } from './newsletters.compose.ts';
import {
  addHardBounce,
  claimDeliveries,
  type ClaimedDelivery,
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
  now?: () => Date;
  log?: (line: string) => void;
  /** Called after each recorded outcome (progress bars). */
  onOutcome?: (outcome: DeliveryOutcome) => void;
}

export interface DeliveryWorkerOptions {
  /** `hostname:pid:random`, written into each claim. */
  workerId: string;
  /**
   * Deliveries claimed per statement. Every lane idles while a batch ends and the next is claimed, so a
   * batch should last much longer than a claim (1,000 rows: ~0.7 s of sending, ~40 ms to claim on
   * PostgreSQL). A crash leaves a batch's unsent rows claimed until the sweep: delayed, never duplicated.
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
  /** Idle poll interval when nothing is due. */
  pollMs: number;
  /** Hard bounces after which an address is suppressed. */
  hardBouncesToSuppress: number;
  /** Accepted messages are recorded in one statement at most this often (a group commit); see recordSent. */
  recordGroupMs: number;
}

/** A claimed delivery whose subscriber is still confirmed and not suppressed. */
interface Recipient extends ClaimedDelivery {
  subscriber_id: number;
  emailHash: string;
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
 * The delivery worker. Its loop: sweep claims of dead workers back into the queue, claim a batch
 * (`queued` → `sending`), re-check each recipient is still confirmed and not suppressed (else `skipped`),
 * send with at most `concurrency` messages in flight, and record each outcome the moment it is known:
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
  const id = options.workerId;
  const now = () => deps.now?.() ?? new Date();
  const log = deps.log ?? (() => {});
  const concurrency = Math.max(1, deps.concurrency);
  const templates = new Map<number, IssueTemplate & { mime: PreparedMime | undefined }>();
  const rate = createRateLimiter(deps.ratePerSecond);
  const messageIdFor = createMessageIds(deps.secret, deps.messageIdDomain);

  let stopping = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let pauseMs = 0;
  let consecutiveTemporary = 0;
  /** The server's reply when the last pause came from a refused session (e.g. wrong credentials). */
  let sessionRefused: string | undefined;
  let lastSweep = 0;
  /** Deliveries this worker is working on (claimed, outcome not yet written): renewed, and left alone by the sweep. */
  const held = new Set<number>();
  /** Writes owed after one failed (a full disk): accepted deliveries to record `sent`, others to give back. */
  const owedSent = new Map<number, string>();
  const owedRelease = new Set<number>();

  /** Writes what is owed before anything else is claimed; throws the database's own error while it cannot. */
  function settleOwed(): Promise<void> {
    return settleOwedWrites([[owedSent, (ids) => markSentMany(db, new Map(ids.map((i) => [i, owedSent.get(i) ?? ''])), now().toISOString())], [owedRelease, (ids) => releaseClaims(db, ids, id, now().toISOString())]], held);
  }


  /**
   * Accepted messages are recorded in groups: every lane waits for its record to be committed before it
   * sends again, so at most `concurrency` accepted messages are ever unrecorded, as with one statement
   * each, at a fraction of the commits. A group is written at most every `recordGroupMs`, and at once when
   * every lane is waiting for it (nothing more can join): while the SMTP server is the limit, its replies
   * come one at a time, and a commit for each cost ~250 µs of SQLite per message (a WAL commit writes every
   * page the update touched, table and indexes, however few rows changed). 10 ms gathers ~15 rows at
   * 1,500 messages/s; each lane waits at most that much longer per message, small beside the SMTP round
   * trips and the server's own work on a 60 KB message (measured: 5 ms cost ~15% more CPU per message on
   * both databases at the same rate).
   */
  let pendingSent = new Map<number, string>();
  let pendingFlush: Promise<void> | undefined;
  let flushSoon: (() => void) | undefined;
  let lastFlushAt = -Infinity;
  let activeLanes = 0;
  function recordSent(deliveryId: number, messageId: string): Promise<void> {
    pendingSent.set(deliveryId, messageId);
    if (!pendingFlush) {
      const wait = lastFlushAt + options.recordGroupMs - performance.now();
      pendingFlush = new Promise<void>((resolve) => {
        if (wait <= 0) return void setImmediate(resolve);
        const timer = setTimeout(resolve, wait);
        flushSoon = () => {
          clearTimeout(timer);
          resolve();
        };
      }).then(async () => {
        const sent = pendingSent;
        pendingSent = new Map();
        pendingFlush = undefined;
        flushSoon = undefined;
        lastFlushAt = performance.now();
        await markSentMany(db, sent, now().toISOString());
      });
    } else if (pendingSent.size >= activeLanes) flushSoon?.();
    return pendingFlush;
  }

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

  /** Claims of workers that died go back to the queue: by lease expiry, or at once for a dead pid here. */
  async function sweep(): Promise<void> {
    const at = now().getTime();
    if (lastSweep !== 0 && at - lastSweep < options.leaseMs / 4) return;
    lastSweep = at;
    const dead = (await listClaimants(db)).filter((w) => w !== id && isDeadLocalClaimant(w));
    const released = await releaseStaleClaims(db, new Date(at - options.leaseMs).toISOString(), dead, [...held]);
    if (released > 0) log(`Returned ${released} deliveries claimed by stopped workers to the queue.`);
  }

  async function runOnce(): Promise<number> {
    await settleOwed();
    await sweep();
    const claimed = await claimDeliveries(db, id, now().toISOString(), options.batchSize);
    if (claimed.length === 0) {
      await finishIssues(db, now().toISOString());
      return 0;
    }
    for (const d of claimed) held.add(d.id);
    const renew = setInterval(() => void renewClaims(db, id, now().toISOString(), [...held]).catch(() => {}), Math.max(50, options.leaseMs / 3));
    try {
      await work(await filterRecipients(claimed));
    } catch (error) {
      // Whatever has no written outcome goes back (an accepted one is recorded, never sent again).
      for (const d of claimed) if (held.has(d.id) && !owedSent.has(d.id)) owedRelease.add(d.id);
      throw error;
    } finally {
      clearInterval(renew);
    }
    // A full batch leaves more to claim, and the next claim that finds nothing finishes the issue: the
    // check (an index read that grows with the send on PostgreSQL) is needed after a short batch only,
    // or when stopping, as there will be no next claim.
    if (claimed.length < options.batchSize || stopping) await finishIssues(db, now().toISOString());
    return claimed.length;
  }

  /** Marks `skipped` those who unsubscribed, were erased or suppressed since the issue was queued. */
  async function filterRecipients(claimed: ClaimedDelivery[]): Promise<Recipient[]> {
    const confirmed = await findConfirmedSubscriberKeys(db, claimed.map((d) => d.subscriber_id).filter((s): s is number => s !== null));
    const recipients: Recipient[] = [];
    for (const d of claimed) {
      const key = d.subscriber_id === null ? undefined : confirmed.get(d.subscriber_id);
      if (key !== undefined) recipients.push({ ...d, subscriber_id: d.subscriber_id as number, emailHash: deps.emailHash(key) });
    }
    const suppressed = await findSuppressedHashes(db, recipients.map((r) => r.emailHash));
    const keep = recipients.filter((r) => !suppressed.has(r.emailHash));
    const kept = new Set(keep.map((r) => r.id));
    const skipped = claimed.filter((d) => !kept.has(d.id)).map((d) => d.id);
    await markSkipped(db, skipped, 'no longer subscribed');
    for (const deliveryId of skipped) held.delete(deliveryId);
    for (let i = 0; i < skipped.length; i++) deps.onOutcome?.('skipped');
    return keep;
  }

  /** Sends a batch with `concurrency` lanes; a pause or stop leaves the unsent ones to be given back. */
  async function work(batch: Recipient[]): Promise<void> {
    let next = 0;
    let pausing = false;
    let failure: Error | undefined;
    // A lane that meets an error stops them all, but every lane ends before the claims are settled.
    const lane = async () => {
      activeLanes++;
      try {
        while (!stopping && !pausing && !failure) {
          const delivery = batch[next++];
          if (!delivery) return;
          await rate();
          const outcome = await sendOne(delivery);
          if (outcome === 'paused') pausing = true;
        }
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error(String(error));
      } finally {
        activeLanes--;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, lane));
    if (failure) throw failure;
    const unsent = batch.slice(Math.min(next, batch.length)).map((d) => d.id);
    if (unsent.length > 0) await releaseClaims(db, unsent, id, now().toISOString());
    for (const deliveryId of unsent) held.delete(deliveryId);
    if (pausing && !stopping) {
      pauseMs = Math.min(options.pauseMaxMs, pauseMs === 0 ? options.pauseBaseMs : pauseMs * 2);
      log(`${serverTroubleLine(sessionRefused)}; pausing for ${Math.round(pauseMs / 100) / 10} s (nothing is lost).`);
      await sleep(pauseMs, (w) => (wake = w));
    }
  }

  async function sendOne(delivery: Recipient): Promise<DeliveryOutcome> {
    const t = await template(delivery.issue_id);
    if (!t) {
      await markSkipped(db, [delivery.id], 'issue or subscriber gone');
      return 'skipped';
    }
    const links = deps.links(delivery.subscriber_id);
    const messageId = messageIdFor(`gazette.${delivery.issue_id}.${delivery.id}`);
    const envelopeFrom = deps.envelopeSender?.(delivery.id);
    let outcome: SendOutcome;
    try {
      if (t.mime && transport.sendRaw && /^[\x21-\x7e]+$/.test(delivery.email)) {
        const message = renderRecipientMessage(t.mime, { from: transport.from ?? '', to: delivery.email, messageId, date: now(), listId: deps.listId, links });
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
    const at = now();
    let result: DeliveryOutcome;
    try {
      result = await record(delivery, outcome, at, messageId);
    } catch (error) {
      // Accepted but not recorded: owed its record, so that it is never sent again.
      if (outcome.kind === 'accepted') owedSent.set(delivery.id, messageId);
      throw error;
    }
    held.delete(delivery.id);
    deps.onOutcome?.(result);
    return result;
  }

  async function record(delivery: Recipient, outcome: SendOutcome, at: Date, messageId: string): Promise<DeliveryOutcome> {
    switch (outcome.kind) {
      case 'accepted':
        // First, before anything else: this is the record that keeps the message from going out twice.
        await recordSent(delivery.id, messageId);
        consecutiveTemporary = 0;
        pauseMs = 0;
        return 'sent';
      case 'permanent': {
        await markFailed(db, delivery.id, id, `${outcome.responseCode} ${outcome.error}`);
        consecutiveTemporary = 0;
        if ((await addHardBounce(db, delivery.subscriber_id)) >= options.hardBouncesToSuppress) {
          await insertSuppression(db, delivery.emailHash, 'bounced', at.toISOString());
          log(`Suppressed subscriber ${delivery.subscriber_id} after ${options.hardBouncesToSuppress} hard bounces.`);
        }
        return 'failed';
      }
      case 'temporary': {
        consecutiveTemporary++;
        sessionRefused = outcome.sessionRefused;
        const serverTrouble = outcome.serverDown || consecutiveTemporary >= options.pauseAfterTemporaryFailures;
        if (outcome.serverDown) {
          // Not this recipient's fault: back in the queue as it was, due as soon as the server returns.
          await releaseClaims(db, [delivery.id], id, at.toISOString());
          return 'paused';
        }
        if (delivery.attempts + 1 >= options.maxAttempts) {
          await markFailed(db, delivery.id, id, `gave up after ${delivery.attempts + 1} attempts: ${outcome.error}`);
          return serverTrouble ? 'paused' : 'failed';
        }
        const delay = Math.min(3_600_000, options.retryBaseMs * 2 ** delivery.attempts);
        await markRetry(db, delivery.id, id, outcome.error, new Date(at.getTime() + delay).toISOString());
        return serverTrouble ? 'paused' : 'retry';
      }
    }
  }

  async function run(): Promise<void> {
    while (!stopping) {
      let claimed = 0;
      try {
        claimed = await runOnce();
      } catch (error) {
        log(`Delivery worker error: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (claimed === 0 && !stopping) await sleep(options.pollMs, (w) => (wake = w));
    }
  }

  return {
    id,
    runOnce,
    start: () => {
      stopping = false;
      loop ??= run().finally(() => (loop = undefined));
    },
    stop: async () => {
      stopping = true;
      wake?.();
      await loop;
    },
  };
}

/** An issue's MIME for the bulk path (`sendRaw`), encoded once per issue. */
export function prepareIssueMime(template: IssueTemplate): PreparedMime {
  return prepareMime({ subject: template.subject, text: slotted(template.textParts), html: slotted(template.htmlParts) });
}

/** One recipient's message on the bulk path, as the Buffers to write (see mail.mime.ts). */
export function renderRecipientMessage(mime: PreparedMime, r: { from: string; to: string; messageId: string; date: Date; listId: string; links: RecipientLinkSet }): Buffer[] {
  const { links } = r;
  return renderMimeChunks(mime, {
    from: r.from,
    to: r.to,
    messageId: r.messageId,
    date: r.date,
    list: { id: r.listId, unsubscribeUrl: links.unsubscribeUrl, unsubscribeMailto: links.unsubscribeMailto },
    slots: { unsubscribe: { text: links.unsubscribeUrl, html: escapeHtml(links.unsubscribeUrl) }, manage: { text: links.manageUrl, html: escapeHtml(links.manageUrl) } },
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

/** A sleep that `stop()` can cut short. */
function sleep(ms: number, onWake: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    onWake(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
