import { randomBytes } from 'node:crypto';
import { isDeadLocalClaimant, newClaimantId, settleOwedWrites } from '../../db/claimants.ts';
import { createGroupCommit } from '../../db/group-commit.ts';
import type { Db } from '../../db/index.ts';
import { escapeHtml } from '../../web/html.ts';
import { createMessageIds, type PreparedMime, prepareMime, renderMimeChunks } from '../mail/mail.mime.ts';
import { type MailTransport, type SendOutcome, serverTroubleLine } from '../mail/mail.transport.ts';
import { getSiteSettings } from '../settings/settings.service.ts';
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
 * connection), or `failed` (5xx). A confirmation whose nonce was replaced by a newer sign-up is `skipped`:
 * only the newest link works, so only the newest is sent. The poll picks up retries, and the mails of a
 * process that died before sending them; claims make each mail go out once (a crash between the server's
 * reply and the record can repeat one, as for newsletters).
 */
export function createSubscriberMailer(deps: SubscriberMailerDeps): SubscriberMailer {
  const options: SubscriberMailerOptions = { senderId: newClaimantId(), ...defaults, ...deps.options };
  const { db, transport } = deps;
  const id = options.senderId;
  const now = () => deps.now?.() ?? new Date();
  const log = deps.log ?? { info: () => {}, warn: () => {} };
  const messageIdFor = createMessageIds(deps.secret, new URL(deps.siteUrl).hostname);
  const concurrency = Math.max(1, deps.concurrency);
  const envelopeSafe = /^[\x21-\x7e]+$/;
  /** Stands for the link while a mail is encoded once (letters, digits and hyphens: escaping leaves it be). */
  const linkSlot = `gazette-link-${randomBytes(8).toString('hex')}`;
  const templates = new Map<string, PreparedMime | undefined>();

  let stopping = false;
  let pausedUntil = 0;
  let pauseMs = 0;
  /** The server's reply when the last pause came from a refused session (e.g. wrong credentials). */
  let sessionRefused: string | undefined;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  /** Set by wake() while a round runs, so the loop goes again instead of sleeping. */
  let woken = false;
  let lastSweep = 0;
  /**
   * Accepted mails are recorded in groups; each lane waits for its record before it sends again, so at
   * most `concurrency` accepted mails are ever unrecorded (what a crash could send twice).
   */
  const sentRecords = createGroupCommit(async (sent: { id: number; messageId: string }[]) => {
    await markSubscriberMailsSent(db, new Map(sent.map((s) => [s.id, s.messageId])), now().toISOString());
    return sent.map(() => undefined);
  }, { maxBatch: 500 });

  /**
   * The mails this process is working on: claimed, and their outcome not yet written. Only these are renewed,
   * and the sweep leaves them alone; a claim that drops out of it without its record expires and goes back.
   */
  const held = new Set<number>();
  /**
   * Writes that failed (a full disk, a lost database) and are owed before anything else is sent: mails the
   * server accepted, to be recorded `sent` (never sent again), and mails to give back to the queue.
   */
  const owedSent = new Map<number, string>();
  const owedRelease = new Set<number>();

  /** Writes what is owed; throws (with the database's own error) while it still cannot. */
  function settleOwed(): Promise<void> {
    return settleOwedWrites([[owedSent, (ids) => markSubscriberMailsSent(db, new Map(ids.map((i) => [i, owedSent.get(i) ?? ''])), now().toISOString())], [owedRelease, (ids) => releaseSubscriberMails(db, ids, id, now().toISOString())]], held);
  }


  async function sendClaimed(claimed: ClaimedSubscriberMail[]): Promise<void> {
    if (claimed.length === 0) return;
    for (const mail of claimed) held.add(mail.id);
    const renew = setInterval(() => void renewSubscriberMailClaims(db, id, [...held], now().toISOString()).catch(() => {}), options.leaseMs / 3);
    let failure: unknown;
    let serverDown = false;
    try {
      const [settings, recipients] = await Promise.all([getSiteSettings(db), findMailRecipients(db, [...new Set(claimed.map((m) => m.subscriber_id))])]);
      const names = { publicationName: settings.publicationName, newsletterName: settings.newsletterName };
      let next = 0;
      // A lane that meets an error stops them all, but every lane ends before the claims are settled.
      const lane = async () => {
        while (!serverDown && !stopping && failure === undefined) {
          const mail = claimed[next++];
          if (!mail) return;
          let sent: { messageId: string } | undefined;
          try {
            const outcome = await sendOne(mail, recipients.get(mail.subscriber_id), names);
            if (typeof outcome === 'object') {
              sent = outcome;
              await sentRecords.add({ id: mail.id, messageId: outcome.messageId });
            } else if (outcome === 'server down') serverDown = true;
            held.delete(mail.id);
          } catch (error) {
            failure ??= error;
            if (sent) owedSent.set(mail.id, sent.messageId);
            else owedRelease.add(mail.id);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, lane));
    } catch (error) {
      failure ??= error;
    } finally {
      clearInterval(renew);
    }
    if (serverDown) {
      pauseMs = Math.min(options.pauseMaxMs, pauseMs === 0 ? options.pauseBaseMs : pauseMs * 2);
      pausedUntil = Date.now() + pauseMs;
      log.warn(`${serverTroubleLine(sessionRefused)}; sign-up mails wait ${Math.round(pauseMs / 100) / 10} s (nothing is lost).`);
    } else pauseMs = 0;
    // What the lanes did not reach (the server went away, or an error) goes back untouched, due after the pause.
    const unsent = claimed.filter((m) => held.has(m.id) && !owedSent.has(m.id) && !owedRelease.has(m.id)).map((m) => m.id);
    try {
      await releaseSubscriberMails(db, unsent, id, new Date(now().getTime() + pauseMs).toISOString());
      for (const mailId of unsent) held.delete(mailId);
    } catch (error) {
      failure ??= error;
      for (const mailId of unsent) owedRelease.add(mailId);
    }
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(describeError(failure));
  }

  /** Writes and sends one mail; records failures at once (successes are recorded together by the caller). */
  async function sendOne(mail: ClaimedSubscriberMail, recipient: MailRecipient | undefined, names: MailNames): Promise<{ messageId: string } | 'done' | 'server down'> {
    const link = recipient ? linkFor(mail, recipient) : undefined;
    if (!recipient || link === undefined) {
      await finishSubscriberMail(db, mail.id, id, 'skipped', 'superseded by a newer sign-up, or the subscription changed');
      return 'done';
    }
    const messageId = messageIdFor(`signup.${mail.id}`);
    let outcome: SendOutcome;
    try {
      const prepared = transport.sendRaw && envelopeSafe.test(recipient.email) ? template(mail.kind, names) : undefined;
      if (prepared && transport.sendRaw) {
        const slots = { link: { text: link, html: escapeHtml(link) } };
        outcome = await transport.sendRaw(recipient.email, renderMimeChunks(prepared, { from: transport.from ?? '', to: recipient.email, messageId, date: now(), autoSubmitted: true, slots }));
      } else {
        outcome = await transport.send({ to: recipient.email, ...render(mail.kind, names, link), messageId, autoSubmitted: true });
      }
    } catch (error) {
      outcome = { kind: 'temporary', error: error instanceof Error ? error.message : String(error), serverDown: false };
    }
    switch (outcome.kind) {
      case 'accepted':
        if (deps.logConfirmationLinks && mail.kind === 'confirm') log.info(`Confirmation link for subscriber ${recipient.id} (mail written to the outbox): ${link}`);
        return { messageId };
      case 'permanent':
        await finishSubscriberMail(db, mail.id, id, 'failed', `${outcome.responseCode} ${outcome.error}`);
        log.warn(`A sign-up mail was refused by the SMTP server (${outcome.responseCode}).`);
        return 'done';
      case 'temporary': {
        if (outcome.serverDown) {
          sessionRefused = outcome.sessionRefused;
          await releaseSubscriberMails(db, [mail.id], id, now().toISOString());
          return 'server down';
        }
        if (mail.attempts + 1 >= options.maxAttempts) {
          await finishSubscriberMail(db, mail.id, id, 'failed', `gave up after ${mail.attempts + 1} attempts: ${outcome.error}`);
          log.warn(`A sign-up mail failed ${mail.attempts + 1} times and was given up.`);
          return 'done';
        }
        const delay = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** mail.attempts);
        await markSubscriberMailRetry(db, mail.id, id, outcome.error, new Date(now().getTime() + delay).toISOString());
        return 'done';
      }
    }
  }

  /** The mail's one link, from the subscriber's row as it is now; undefined when there is nothing to send any more. */
  function linkFor(mail: ClaimedSubscriberMail, recipient: MailRecipient): string | undefined {
    if (mail.kind === 'confirm') {
      // Only the newest link works (a newer sign-up replaced the nonce), and a confirmed reader needs none.
      if (recipient.status !== 'pending' || !mail.confirm_nonce || recipient.confirm_nonce !== mail.confirm_nonce || !recipient.confirm_sent_at) return undefined;
      const expires = new Date(Date.parse(recipient.confirm_sent_at) + confirmLinkLifetimeMs);
      return `${deps.siteUrl}/newsletter/confirm?token=${createConfirmToken(deps.secret, recipient.id, mail.confirm_nonce, expires)}`;
    }
    return recipient.status === 'confirmed' ? manageUrl(deps.siteUrl, deps.secret, recipient.id) : undefined;
  }

  function render(kind: SubscriberMailKind, names: MailNames, link: string): { subject: string; html: string; text: string } {
    return kind === 'confirm' ? confirmationMail(names, { confirmUrl: link }) : alreadySubscribedMail(names, { manageUrl: link });
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
      templates.set(key, text.length > 1 && html.length > 1 ? prepareMime({ subject: mail.subject, text: slotted(text), html: slotted(html) }) : undefined);
    }
    return templates.get(key);
  }

  async function claimAndSend(ids: number[]): Promise<number> {
    const claimed = await claimSubscriberMails(db, ids, id, now().toISOString());
    await sendClaimed(claimed);
    return claimed.length;
  }

  async function runOnce(): Promise<number> {
    if (Date.now() < pausedUntil) return 0;
    await settleOwed();
    const at = now();
    if (lastSweep === 0 || Date.now() - lastSweep >= options.leaseMs / 4) {
      lastSweep = Date.now();
      // A read first: the usual answer is "no claims", or only the ones this process is working on.
      const claimants = await listSubscriberMailClaimants(db);
      if (claimants.some((c) => c !== id) || (claimants.includes(id) && held.size === 0)) {
        // Expired claims of any sender, this one's included (a claim it lost to a failed write).
        const released = await releaseStaleSubscriberMails(db, new Date(at.getTime() - options.leaseMs).toISOString(), claimants.filter((c) => c !== id && isDeadLocalClaimant(c)), [...held]);
        if (released > 0) log.info(`Returned ${released} sign-up mails whose claims had expired (a stopped process, or a failed write) to the queue.`);
      }
    }
    const due = await findDueSubscriberMails(db, at.toISOString(), options.batchSize);
    return due.length === 0 ? 0 : claimAndSend(due);
  }

  async function run(): Promise<void> {
    while (!stopping) {
      woken = false;
      let claimed = 0;
      try {
        claimed = await runOnce();
      } catch (error) {
        log.warn(`Sign-up mails: ${describeError(error)}`);
      }
      // A full batch means more may be waiting; a wake-up during the round means new sign-ups came.
      if (stopping || ((claimed === options.batchSize || woken) && Date.now() >= pausedUntil)) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(options.pollMs, pausedUntil - Date.now()));
        timer.unref(); // the poll alone never keeps a process alive
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  }

  return {
    wake() {
      woken = true;
      if (Date.now() >= pausedUntil) wakeUp?.();
    },
    runOnce,
    start() {
      stopping = false;
      loop ??= run().finally(() => (loop = undefined));
    },
    async stop() {
      stopping = true;
      wakeUp?.();
      await loop;
      await sentRecords.drain();
      // One last try; what stays owed expires and is given back by the next sweep (an accepted mail may then go twice).
      await settleOwed().catch((error: unknown) => log.warn(`Sign-up mails: ${describeError(error)}`));
    },
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
