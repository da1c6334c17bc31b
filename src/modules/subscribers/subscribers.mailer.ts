import { randomBytes } from 'node:crypto';
import { newClaimantId } from '../../db/claimants.ts';
import type { Db } from '../../db/index.ts';
import { createRunner, type JobKind, type Outcome } from '../../jobs/runner.ts';
import { escapeHtml } from '../../ui/html.ts';
import { createMessageIds, type PreparedMime, prepareMime, renderMimeChunks } from '../mail/index.ts';
import { type MailTransport, type SendOutcome, serverTroubleLine } from '../mail/index.ts';
import { getSiteSettings } from '../settings/index.ts';
import { alreadySubscribedMail, confirmationMail, type MailNames } from './subscribers.pages.ts';
import {
  claimSubscriberMails,
  type ClaimedSubscriberMail,
  findDueSubscriberMails,
  findMailRecipients,
  listSubscriberMailClaimants,
  finishSubscriberMail,
  type MailRecipient,
  markSubscriberMailRetry,
  markSubscriberMailsSent,
  releaseStaleSubscriberMails,
  releaseSubscriberMails,
  renewSubscriberMailClaims,
} from './subscribers.mails.repository.ts';
import type { SubscriberMailKind } from './subscribers.table.ts';
import { confirmLinkLifetimeMs, createConfirmToken, manageUrl } from './subscribers.tokens.ts';

export interface SubscriberMailerDeps {
  db: Db;
  transport: MailTransport;
  /** From getOrCreateSecretKey; signs the links. */
  secret: string;
  siteUrl: string;
  /** Messages in flight at once (SEND_CONCURRENCY). */
  concurrency: number;
  now?: () => Date;
  log?: { info: (line: string) => void; warn: (line: string) => void };
  /**
   * Without SMTP_URL mails only reach the outbox folder, so each confirmation link is also logged and a
   * local user can finish the flow. Off when mail really leaves: the link is a credential.
   */
  logConfirmationLinks?: boolean;
  options?: Partial<SubscriberMailerOptions>;
}

export interface SubscriberMailerOptions {
  /** `hostname:pid:random`, written into each claim. */
  senderId: string;
  /** Mails claimed per statement. */
  batchSize: number;
  /** A claim not renewed for this long belongs to a process that died and goes back to the queue. */
  leaseMs: number;
  /** How often the queue is read for mails that are due (retries, and those a dead process left). */
  pollMs: number;
  /** First retry after a temporary failure; doubles per attempt, capped at retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Attempts before a mail that keeps failing temporarily is marked failed. */
  maxAttempts: number;
  /** First pause while the SMTP server is down; doubles up to pauseMaxMs. */
  pauseBaseMs: number;
  pauseMaxMs: number;
}

const defaults: Omit<SubscriberMailerOptions, 'senderId'> = {
  batchSize: 100,
  leaseMs: 60_000,
  pollMs: 1_000,
  retryBaseMs: 15_000,
  retryMaxMs: 15 * 60_000,
  maxAttempts: 10,
  pauseBaseMs: 1_000,
  pauseMaxMs: 60_000,
};

export interface SubscriberMailer {
  /** A sign-up of this process committed its mail: look at the queue now instead of at the next poll. */
  wake(): void;
  /** Sends the mails that are due now; resolves with how many it claimed (tests, and the poll). */
  runOnce(): Promise<number>;
  /** Starts the poll for due mails (retries, and mails left by a process that died). */
  start(): void;
  /** Stops claiming, finishes and records the mails in flight, gives the rest back. */
  stop(): Promise<void>;
}

/**
 * Sends subscriber mails from the `subscriber_mails` queue. A sign-up writes its mail's row in its own
 * transaction and wakes the mailer of its process; the mail is claimed (`queued` → `sending`), written from the
 * subscriber's row as it is now, sent, and recorded — `sent`, `queued` again later (4xx, timeout, dropped
 * connection), or `failed` (5xx). A confirmation whose nonce is no longer live (the reader confirmed, or
 * withdrew and signed up again) is `skipped`: its link could do nothing. The poll picks up retries, and the mails of a
 * process that died before sending them; claims make each mail go out once (a crash between the server's
 * reply and the record can repeat one, as for newsletters).
 */
export function createSubscriberMailer(deps: SubscriberMailerDeps): SubscriberMailer {
  const options: SubscriberMailerOptions = { senderId: newClaimantId(), ...defaults, ...deps.options };
  const { db, transport } = deps;
  const now = () => deps.now?.() ?? new Date();
  const log = deps.log ?? { info: () => {}, warn: () => {} };
  const messageIdFor = createMessageIds(deps.secret, new URL(deps.siteUrl).hostname);
  const concurrency = Math.max(1, deps.concurrency);
  const envelopeSafe = /^[\x21-\x7e]+$/;
  /** Stands for the link while a mail is encoded once (letters, digits and hyphens: escaping leaves it be). */
  const linkSlot = `gazette-link-${randomBytes(8).toString('hex')}`;
  const templates = new Map<string, PreparedMime | undefined>();

  /** What every mail of a claimed batch needs, read once for the batch. */
  type Batch = { names: MailNames; recipients: Map<number, MailRecipient> };
  const kind: JobKind<ClaimedSubscriberMail, { messageId: string }, Batch> = {
    name: 'Sign-up mails',
    async claim({ claimant, now: at, limit }) {
      // A read first (an idle poll takes no write lock on SQLite), then the conditional claim of those ids.
      const due = await findDueSubscriberMails(db, at.toISOString(), limit);
      return claimSubscriberMails(db, due, claimant, at.toISOString());
    },
    async prepare(claimed) {
      const [settings, recipients] = await Promise.all([
        getSiteSettings(db),
        findMailRecipients(db, [...new Set(claimed.map((m) => m.subscriber_id))]),
      ]);
      return {
        names: { publicationName: settings.publicationName, newsletterName: settings.newsletterName },
        recipients,
      };
    },
    run: (mail, { prepared }) => sendOne(mail, prepared.recipients.get(mail.subscriber_id), prepared.names),
    async record(settled, { claimant, now: at }) {
      const sent = new Map<number, string>();
      for (const { item, outcome } of settled) if (outcome.kind === 'done') sent.set(item.id, outcome.result.messageId);
      if (sent.size === settled.length) return markSubscriberMailsSent(db, sent, at.toISOString());
      await db.transaction().execute(async (trx) => {
        await markSubscriberMailsSent(trx, sent, at.toISOString());
        for (const { item, outcome } of settled) {
          if (outcome.kind === 'skipped' || outcome.kind === 'failed')
            await finishSubscriberMail(trx, item.id, claimant, outcome.kind, outcome.reason);
          else if (outcome.kind === 'retry')
            await markSubscriberMailRetry(trx, item.id, claimant, outcome.reason, outcome.at.toISOString());
        }
      });
    },
    release: (ids, { claimant, dueAt }) => releaseSubscriberMails(db, ids, claimant, dueAt.toISOString()),
    renew: (ids, { claimant, now: at }) => renewSubscriberMailClaims(db, claimant, ids, at.toISOString()),
    listClaimants: () => listSubscriberMailClaimants(db),
    async sweep({ staleBefore, deadClaimants, keep }) {
      const released = await releaseStaleSubscriberMails(db, staleBefore.toISOString(), deadClaimants, keep);
      if (released > 0)
        log.info(
          `Returned ${released} sign-up mails whose claims had expired (a stopped process, or a failed write) to the queue.`,
        );
    },
  };

  /** Writes and sends one mail, and says how it went (the runner records it). */
  async function sendOne(
    mail: ClaimedSubscriberMail,
    recipient: MailRecipient | undefined,
    names: MailNames,
  ): Promise<Outcome<{ messageId: string }>> {
    const link = recipient ? linkFor(mail, recipient) : undefined;
    if (!recipient || link === undefined)
      return { kind: 'skipped', reason: 'superseded by a newer sign-up, or the subscription changed' };
    const messageId = messageIdFor(`signup.${mail.id}`);
    let outcome: SendOutcome;
    try {
      const prepared = transport.sendRaw && envelopeSafe.test(recipient.email) ? template(mail.kind, names) : undefined;
      if (prepared && transport.sendRaw) {
        const slots = { link: { text: link, html: escapeHtml(link) } };
        outcome = await transport.sendRaw(
          recipient.email,
          renderMimeChunks(prepared, {
            from: transport.from ?? '',
            to: recipient.email,
            messageId,
            date: now(),
            autoSubmitted: true,
            slots,
          }),
        );
      } else {
        outcome = await transport.send({
          to: recipient.email,
          ...render(mail.kind, names, link),
          messageId,
          autoSubmitted: true,
        });
      }
    } catch (error) {
      outcome = { kind: 'temporary', error: error instanceof Error ? error.message : String(error), serverDown: false };
    }
    switch (outcome.kind) {
      case 'accepted':
        if (deps.logConfirmationLinks && mail.kind === 'confirm')
          log.info(`Confirmation link for subscriber ${recipient.id} (mail written to the outbox): ${link}`);
        return { kind: 'done', result: { messageId } };
      case 'permanent':
        log.warn(`A sign-up mail was refused by the SMTP server (${outcome.responseCode}).`);
        return { kind: 'failed', reason: `${outcome.responseCode} ${outcome.error}` };
      case 'temporary': {
        if (outcome.serverDown) return { kind: 'paused', reason: serverTroubleLine(outcome.sessionRefused) };
        if (mail.attempts + 1 >= options.maxAttempts) {
          log.warn(`A sign-up mail failed ${mail.attempts + 1} times and was given up.`);
          return { kind: 'failed', reason: `gave up after ${mail.attempts + 1} attempts: ${outcome.error}` };
        }
        const delay = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** mail.attempts);
        return { kind: 'retry', at: new Date(now().getTime() + delay), reason: outcome.error };
      }
    }
  }

  /** The mail's one link, from the subscriber's row as it is now; undefined when there is nothing to send any more. */
  function linkFor(mail: ClaimedSubscriberMail, recipient: MailRecipient): string | undefined {
    if (mail.kind === 'confirm') {
      // Only a live nonce confirms (see SubscriberService.liveConfirmation), and a confirmed reader needs no link.
      if (
        recipient.status !== 'pending' ||
        !mail.confirm_nonce ||
        recipient.confirm_nonce !== mail.confirm_nonce ||
        !recipient.confirm_sent_at
      )
        return undefined;
      const expires = new Date(Date.parse(recipient.confirm_sent_at) + confirmLinkLifetimeMs);
      return `${deps.siteUrl}/newsletter/confirm?token=${createConfirmToken(deps.secret, recipient.id, mail.confirm_nonce, expires)}`;
    }
    return recipient.status === 'confirmed' ? manageUrl(deps.siteUrl, deps.secret, recipient.id) : undefined;
  }

  function render(
    kind: SubscriberMailKind,
    names: MailNames,
    link: string,
  ): { subject: string; html: string; text: string } {
    return kind === 'confirm'
      ? confirmationMail(names, { confirmUrl: link })
      : alreadySubscribedMail(names, { manageUrl: link });
  }

  /** The mail encoded once per kind and wording, with a gap for the link (undefined if it cannot be split). */
  function template(kind: SubscriberMailKind, names: MailNames): PreparedMime | undefined {
    const key = `${kind}\n${names.publicationName}\n${names.newsletterName}`;
    if (!templates.has(key)) {
      const mail = render(kind, names, linkSlot);
      const text = mail.text.split(linkSlot);
      const html = mail.html.split(linkSlot);
      if (templates.size > 20) templates.clear();
      // [before, 'link', after]: text at even places, the slot's name at odd ones (mail.mime.ts).
      const slotted = (pieces: string[]) => pieces.flatMap((piece, i) => (i === 0 ? [piece] : ['link', piece]));
      templates.set(
        key,
        text.length > 1 && html.length > 1
          ? prepareMime({ subject: mail.subject, text: slotted(text), html: slotted(html) })
          : undefined,
      );
    }
    return templates.get(key);
  }

  /*
   * Accepted mails are recorded in group commits; each lane waits for its record before it sends again, so
   * at most `concurrency` accepted mails are ever unrecorded (what a crash could send twice). An accepted
   * mail whose record failed is owed: recorded `sent` before anything else is claimed, never sent again.
   */
  const runner = createRunner(kind, {
    now,
    log,
    options: {
      claimant: options.senderId,
      lanes: concurrency,
      batchSize: options.batchSize,
      leaseMs: options.leaseMs,
      pollMs: options.pollMs,
      unrefPoll: true, // the poll alone never keeps a process alive
      pauseBaseMs: options.pauseBaseMs,
      pauseMaxMs: options.pauseMaxMs,
      recordGroupMs: 0,
    },
  });

  return {
    wake: () => runner.wake(),
    runOnce: async () => (await runner.runOnce()).claimed,
    start: () => runner.start(),
    stop: () => runner.stop(),
  };
}
