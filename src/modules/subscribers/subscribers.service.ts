import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Config } from '../../config.ts';
import { createGroupCommit, type GroupCommit } from '../../db/group-commit.ts';
import { type Db, inTransaction } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { getLegalDocument } from '../legal/index.ts';
import { ipSource, RateLimiter, type RateRule } from '../rate-limits/index.ts';
import type { LegalDocumentRow } from '../legal/index.ts';
import { getSiteSettings } from '../settings/index.ts';
import { emitWebhookEvents } from '../webhooks/index.ts';
import {
  confirmSubscriberByNonce,
  countConfirmedPerDay,
  deleteSubscriber,
  findSubscriberById,
  findSuppressed,
  insertConsentEvents,
  insertSuppression,
  listConsentEvents,
  listLegacyEmailHashes,
  replaceEmailHashes,
  unsubscribeSubscriber,
  updateSubscriber,
} from './subscribers.repository.ts';
import { normaliseEmail, sameSitePath, type SignupForm } from './subscribers.schema.ts';
import type { SubscriberMailer } from './subscribers.mailer.ts';
import {
  findSubscribersByEmailKeys,
  insertSubscriberMails,
  insertSubscribersIfAbsent,
  skipQueuedConfirmMails,
} from './subscribers.mails.repository.ts';
import type {
  ConsentEventRow,
  NewConsentEvent,
  NewSubscriberMail,
  SubscriberRow,
  SubscriberStatus,
} from './subscribers.table.ts';
import { countSubscribersByStatus } from './subscribers.repository.ts';
import {
  createSubscriberToken,
  emailHash,
  keyEmailHash,
  newConfirmNonce,
  unsubscribeUrl,
  verifyConfirmToken,
  verifySubscriberToken,
} from './subscribers.tokens.ts';

/**
 * A subscriber's webhook event. It carries the address: an admin who registers an endpoint for subscriber
 * events hands the list to that system (as Ghost's member webhooks do).
 */
function subscriberEvent(
  type: 'subscriber.confirmed' | 'subscriber.unsubscribed',
  subscriber: SubscriberRow,
  at: string,
) {
  const status = type === 'subscriber.confirmed' ? 'confirmed' : 'unsubscribed';
  return {
    type,
    subject: `subscriber:${subscriber.id}`,
    data: { subscriber: { id: String(subscriber.id), email: subscriber.email, status, at } },
  };
}

/** Longest user agent kept in a consent record. */
const maxUserAgentLength = 512;

export interface SubscriberServiceDeps {
  db: Db;
  /** From getOrCreateSecretKey; signs every link. */
  secret: string;
  config: Pick<Config, 'siteUrl' | 'ipStorage'>;
  now: () => Date;
  limiter?: SignupRateLimiter;
  /** Sends the mails of committed sign-ups at once (without it they wait in the queue for a mailer's poll). */
  mailer?: Pick<SubscriberMailer, 'wake'>;
}

/** What the visitor's request carried besides the form. */
export interface RequestFacts {
  ip: string;
  userAgent: string | undefined;
}

/**
 * The sign-up limits, per IP (an IPv6 address counts by its /64) and per address, kept in the database
 * (rate-limits.service.ts) so that every web process counts the same sign-ups.
 */
export class SignupRateLimiter {
  private readonly limits: RateLimiter;
  private readonly perIp: RateRule;
  private readonly perAddress: RateRule;

  constructor(limits: RateLimiter, options: { perIp?: RateRule; perAddress?: RateRule } = {}) {
    this.limits = limits;
    this.perIp = options.perIp ?? { limit: 20, windowMs: 10 * 60_000 };
    this.perAddress = options.perAddress ?? { limit: 5, windowMs: 60 * 60_000 };
  }

  /** Counts an attempt from `ip` that will store nothing (a robot, a mistyped form); false when over the limit. */
  async allowIp(ip: string, now: Date): Promise<boolean> {
    return (await this.limits.hit('signup-ip', ipSource(ip), this.perIp, now)) === null;
  }

  /**
   * Counts a batch of sign-ups against their IPs' limit, then (those under it) their addresses', inside
   * the sign-ups' own transaction `trx`: two statements per batch, no extra transaction, and a sign-up
   * whose write fails has used up nothing. Resolves with whether each may go ahead.
   */
  async allowWithin(trx: Db, signups: readonly { ip: string; emailKey: string }[], now: Date): Promise<boolean[]> {
    const ipOk = await this.limits.hitsWithin(
      trx,
      signups.map((s) => ({ scope: 'signup-ip', value: ipSource(s.ip), rule: this.perIp })),
      now,
    );
    const next = signups.flatMap((s, i) => (ipOk[i] ? [i] : []));
    const addressOk = await this.limits.hitsWithin(
      trx,
      next.map((i) => ({ scope: 'signup-address', value: signups[i]!.emailKey, rule: this.perAddress })),
      now,
    );
    const allowed = signups.map(() => false);
    next.forEach((i, n) => (allowed[i] = addressOk[n] ?? false));
    return allowed;
  }

  /** After a batch of sign-ups has committed: deletes a few expired counters now and then. */
  async afterBatch(now: Date): Promise<void> {
    await this.limits.pruneNow(now.toISOString());
  }
}

/** What a confirmation link's button would do: confirm a pending address, or nothing for a confirmed one. */
export type ConfirmLinkState = 'pending' | 'confirmed';

/** The personal data we hold on one subscriber: what "download my data" returns. */
export interface SubscriberDataExport {
  subscriber: Omit<SubscriberRow, 'confirm_nonce'>;
  consentEvents: ConsentEventRow[];
}

/**
 * Sign-up, double opt-in, unsubscribe, self-service and erasure. Every answer a visitor sees is the same
 * whether or not an address was known: only the mail that follows differs.
 */
export class SubscriberService {
  private readonly deps: SubscriberServiceDeps;
  private readonly limiter: SignupRateLimiter;

  /** Sign-ups arriving together are written in one transaction (see writeSignups). */
  private readonly signups: GroupCommit<PendingSignup, SignupOutcome>;

  constructor(deps: SubscriberServiceDeps) {
    this.deps = deps;
    const limiter = deps.limiter ?? new SignupRateLimiter(new RateLimiter(deps.db));
    this.limiter = limiter;
    this.signups = createGroupCommit(
      async (items) => {
        const latest = new Date(items.reduce((at, item) => (item.at > at ? item.at : at), ''));
        const outcomes = await writeSignups(deps.db, items, (trx) =>
          limiter.allowWithin(
            trx,
            items.map((item) => ({ ip: item.limitIp, emailKey: item.emailKey })),
            latest,
          ),
        );
        await limiter.afterBatch(latest);
        return outcomes;
      },
      { maxBatch: 200 },
    );
  }

  /**
   * A sign-up from the form. Throws `subscriber.invalid_email`, `subscriber.consent_required` or
   * `subscriber.rate_limited`; otherwise resolves, once the sign-up and its mail are committed, with nothing
   * the visitor may learn from (the route always shows "check your inbox"). The honeypot and suppressed
   * addresses end here silently.
   */
  async signup(form: SignupForm, request: RequestFacts): Promise<void> {
    const now = this.deps.now();
    const address = form.website ? null : normaliseEmail(form.email);
    if (!address || form.consent !== 'yes') {
      // Nothing will be stored, but the attempt counts against the IP all the same.
      if (!(await this.limiter.allowIp(request.ip, now))) throw new AppError('subscriber.rate_limited');
      if (form.website) return; // a robot filled the honeypot: pretend success, store nothing
      throw new AppError(address ? 'subscriber.consent_required' : 'subscriber.invalid_email');
    }

    // The IP and address limits are counted in the sign-up's own transaction (see writeSignups).
    const mailId = await this.signups.add({
      email: address.email,
      emailKey: address.emailKey,
      emailHash: this.emailHash(address.emailKey),
      nonce: newConfirmNonce(),
      at: now.toISOString(),
      sourceUrl: sameSitePath(form.source),
      ip: this.storedIp(request.ip),
      limitIp: request.ip,
      userAgent: request.userAgent ? request.userAgent.slice(0, maxUserAgentLength) : null,
    });
    if (mailId === 'rate_limited') throw new AppError('subscriber.rate_limited');
    // Committed: the mail is on record whatever happens next; this process sends it right away.
    if (mailId !== null) this.deps.mailer?.wake();
  }

  /**
   * Checks a confirmation link without using it (the GET page, which mail scanners may prefetch):
   * `pending` when its button will confirm, `confirmed` when the address is confirmed already (a second
   * link pressed after the first, which is no error).
   */
  async checkConfirmToken(token: string): Promise<ConfirmLinkState> {
    return (await this.liveConfirmation(token)).state;
  }

  /**
   * Follows a confirmation link: the subscriber becomes `confirmed`, once. Resolves with their id, and
   * whether they were confirmed already (by another link, or by this one pressed twice).
   */
  async confirm(token: string): Promise<{ subscriberId: number; already: boolean }> {
    const link = await this.liveConfirmation(token);
    const { subscriber } = link;
    if (link.state === 'confirmed') return { subscriberId: subscriber.id, already: true };
    const at = this.deps.now().toISOString();
    const confirmed = await inTransaction(this.deps.db, async (trx) => {
      if (!(await confirmSubscriberByNonce(trx, subscriber.id, link.nonce, at))) return false;
      await insertConsentEvents(trx, [
        {
          subscriber_id: subscriber.id,
          email_hash: this.emailHash(subscriber.email_key),
          kind: 'confirmed',
          created_at: at,
        },
      ]);
      await emitWebhookEvents(trx, [subscriberEvent('subscriber.confirmed', subscriber, at)], new Date(at));
      return true;
    });
    if (confirmed) return { subscriberId: subscriber.id, already: false };
    // Another press of a link to the same address won the race: confirmed already, or used up.
    const again = await this.liveConfirmation(token);
    if (again.state === 'confirmed') return { subscriberId: subscriber.id, already: true };
    throw new AppError('subscriber.token_used');
  }

  /**
   * The subscriber a self-service (manage) token names. An unsubscribe token, or the single token of mails
   * sent before the two were split, is refused with its own message: it still unsubscribes, nothing more.
   */
  async subscriberForToken(token: string): Promise<SubscriberRow> {
    const id = verifySubscriberToken(this.deps.secret, 'manage', token);
    if (id === null) {
      if (verifySubscriberToken(this.deps.secret, 'unsubscribe', token) !== null)
        throw new AppError('subscriber.unsubscribe_only_link');
      throw new AppError('subscriber.bad_token');
    }
    return this.existing(id);
  }

  /** Checks an unsubscribe link (the page before the button): its subscriber must still exist. */
  async checkUnsubscribeToken(token: string): Promise<void> {
    const id = verifySubscriberToken(this.deps.secret, 'unsubscribe', token);
    if (id === null) throw new AppError('subscriber.bad_token');
    await this.existing(id);
  }

  private async existing(id: number): Promise<SubscriberRow> {
    const subscriber = await findSubscriberById(this.deps.db, id);
    if (!subscriber) throw new AppError('subscriber.not_found');
    return subscriber;
  }

  /**
   * Withdraws consent at once (RFC 8058 one-click, or the button). A valid token for a row that is gone
   * (erased) is not an error: the address is already never mailed.
   */
  async unsubscribe(token: string): Promise<void> {
    const id = verifySubscriberToken(this.deps.secret, 'unsubscribe', token);
    if (id === null) throw new AppError('subscriber.bad_token');
    const at = this.deps.now().toISOString();
    await inTransaction(this.deps.db, async (trx) => {
      const subscriber = await findSubscriberById(trx, id);
      if (!subscriber) return;
      if (await unsubscribeSubscriber(trx, id, at)) {
        await insertConsentEvents(trx, [
          {
            subscriber_id: id,
            email_hash: this.emailHash(subscriber.email_key),
            kind: 'withdrawn',
            detail: 'unsubscribe link',
            created_at: at,
          },
        ]);
        await emitWebhookEvents(trx, [subscriberEvent('subscriber.unsubscribed', subscriber, at)], new Date(at));
      }
    });
  }

  /** Everything we hold on the token's subscriber, for "download my data". */
  async exportData(token: string): Promise<SubscriberDataExport> {
    // The live confirmation nonce is a credential, not the subscriber's data.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { confirm_nonce, ...subscriber } = await this.subscriberForToken(token);
    return { subscriber, consentEvents: await listConsentEvents(this.deps.db, subscriber.id) };
  }

  /**
   * Erasure: the row goes, its address hash joins `suppressions` so it is never mailed again (even if
   * re-imported or typed into the form), and an `erased` event keyed by the hash alone closes the record.
   * Earlier consent events stay, detached from any row, as proof of what was agreed without the address.
   */
  async erase(token: string): Promise<void> {
    const subscriber = await this.subscriberForToken(token);
    const hash = this.emailHash(subscriber.email_key);
    const at = this.deps.now().toISOString();
    await inTransaction(this.deps.db, async (trx) => {
      await insertSuppression(trx, hash, 'erased', at);
      await deleteSubscriber(trx, subscriber.id);
      await insertConsentEvents(trx, [{ subscriber_id: null, email_hash: hash, kind: 'erased', created_at: at }]);
    });
  }

  /** The token for the self-service link of a subscriber (the page shown after confirmation). */
  manageToken(subscriberId: number): string {
    return createSubscriberToken(this.deps.secret, 'manage', subscriberId);
  }

  /** The suppression-list hash of an address key, keyed with the secret. */
  emailHash(emailKey: string): string {
    return emailHash(this.deps.secret, emailKey);
  }

  /** The one-click unsubscribe URL, for mails sent from this module. */
  unsubscribeUrl(subscriberId: number): string {
    return unsubscribeUrl(this.deps.config.siteUrl, this.deps.secret, subscriberId);
  }

  /**
   * What an unexpired, genuine confirmation link can still do. Every link mailed while the address is
   * pending carries the same nonce (a sign-up again while pending keeps it: see writeSignups), so any of
   * them confirms; once confirmed, every one of them answers "already confirmed". A link from before the
   * reader withdrew (its nonce cleared, or replaced by a later sign-up's) is used up.
   */
  private async liveConfirmation(
    token: string,
  ): Promise<
    { state: 'pending'; subscriber: SubscriberRow; nonce: string } | { state: 'confirmed'; subscriber: SubscriberRow }
  > {
    const check = verifyConfirmToken(this.deps.secret, token, this.deps.now());
    if (check.kind === 'invalid') throw new AppError('subscriber.bad_token');
    if (check.kind === 'expired') throw new AppError('subscriber.token_expired');
    const subscriber = await findSubscriberById(this.deps.db, check.subscriberId);
    if (subscriber?.status === 'confirmed') return { state: 'confirmed', subscriber };
    if (!subscriber || subscriber.status !== 'pending' || subscriber.confirm_nonce !== check.nonce)
      throw new AppError('subscriber.token_used');
    return { state: 'pending', subscriber, nonce: check.nonce };
  }

  /** The IP as IP_STORAGE says: full, truncated (IPv4 /24, IPv6 /48) or an HMAC under the secret. */
  storedIp(ip: string): string | null {
    return storeIp(ip, this.deps.config.ipStorage, this.deps.secret);
  }
}

/**
 * Start-up data step, run by every entry point once it has the secret and before it reads or writes a
 * suppression: keys the address hashes that older versions stored as a bare SHA-256 (see `emailHash`).
 * A migration cannot do this, as the secret may live only in the environment. Idempotent and safe to run
 * from several processes at once (each batch rewrites only rows still in the legacy form); after the first
 * run it is one indexed read per table. Resolves with the number of hashes keyed.
 *
 * The keyed hashes depend on the secret: after a change of SECRET_KEY (or of the generated key) they no
 * longer match, so erased and bounced addresses would stop being suppressed. Keep the key.
 */
/**
 * The suppression-list hasher for an entry point: legacy hashes are keyed first (keyLegacyEmailHashes),
 * so no suppression is ever checked against a table that still holds the old form.
 */
export async function openEmailHasher(db: Db, secret: string): Promise<(emailKey: string) => string> {
  await keyLegacyEmailHashes(db, secret);
  return (emailKey) => emailHash(secret, emailKey);
}

export async function keyLegacyEmailHashes(db: Db, secret: string): Promise<number> {
  let keyed = 0;
  for (const table of ['suppressions', 'consent_events'] as const) {
    for (;;) {
      const legacy = await listLegacyEmailHashes(db, table, 500);
      if (legacy.length === 0) break;
      await inTransaction(db, (trx) =>
        replaceEmailHashes(trx, table, new Map(legacy.map((hash) => [hash, keyEmailHash(secret, hash)]))),
      );
      keyed += legacy.length;
    }
  }
  return keyed;
}

/** A validated sign-up on its way to the database. */
interface PendingSignup {
  email: string;
  emailKey: string;
  emailHash: string;
  /** The confirmation link's nonce, should this sign-up need one. */
  nonce: string;
  at: string;
  sourceUrl: string | null;
  ip: string | null;
  /** The request's address as received, for the rate limit (`ip` is what IP_STORAGE keeps). */
  limitIp: string;
  userAgent: string | null;
}

/** A sign-up's queued mail id; null when nothing is sent (a suppressed address); or refused by a rate limit. */
type SignupOutcome = number | null | 'rate_limited';

/**
 * Writes a batch of sign-ups in one transaction and resolves with each one's queued mail id (null for a
 * suppressed address: nothing stored, nothing sent; `rate_limited` for one that `admit`, counting the rate
 * limits in this same transaction, refused). Per sign-up, exactly what one sign-up alone would do:
 * a new address becomes a `pending` subscriber; a pending one keeps its live nonce (every unexpired link
 * mailed to it confirms), an unsubscribed one gets a fresh nonce; both get a `signup` consent event and a confirmation mail. A confirmed address only
 * gets an "already subscribed" mail. The legal versions and the form's wording are read inside the same
 * transaction, so each consent event names the documents current when it was committed.
 */
async function writeSignups(
  db: Db,
  items: PendingSignup[],
  admit: (trx: Db) => Promise<boolean[]>,
): Promise<SignupOutcome[]> {
  return inTransaction(db, async (trx) => {
    const results: SignupOutcome[] = items.map(() => null);
    const allowed = await admit(trx);
    const admitted = items.flatMap((_, i) => (allowed[i] ? [i] : []));
    for (const [i, ok] of allowed.entries()) if (!ok) results[i] = 'rate_limited';
    const [settings, terms, privacy, suppressed] = await Promise.all([
      getSiteSettings(trx),
      currentLegal(trx, 'terms'),
      currentLegal(trx, 'privacy'),
      findSuppressed(trx, [...new Set(admitted.map((i) => items[i]!.emailHash))]),
    ]);
    // Erased and bounced addresses are never mailed again, whatever the form says (see ARCHITECTURE.md).
    let remaining = admitted.filter((i) => !suppressed.has(items[i]!.emailHash));
    // The same address twice in one batch: the later sign-up goes in a second round, as if it came after.
    while (remaining.length > 0) {
      const keys = new Set<string>();
      const round: number[] = [];
      const later: number[] = [];
      for (const i of remaining) {
        const key = items[i]!.emailKey;
        if (keys.has(key)) later.push(i);
        else {
          keys.add(key);
          round.push(i);
        }
      }
      const inserted = await insertSubscribersIfAbsent(
        trx,
        round.map((i) => {
          const item = items[i]!;
          return {
            email: item.email,
            email_key: item.emailKey,
            name: null,
            status: 'pending',
            source: 'form',
            confirm_nonce: item.nonce,
            confirm_sent_at: item.at,
            created_at: item.at,
          };
        }),
      );
      const known = await findSubscribersByEmailKeys(
        trx,
        round.map((i) => items[i]!.emailKey).filter((key) => !inserted.has(key)),
      );
      const events: NewConsentEvent[] = [];
      const mails: NewSubscriberMail[] = [];
      const resent: number[] = [];
      for (const i of round) {
        const item = items[i]!;
        const row = inserted.get(item.emailKey) ?? known.get(item.emailKey);
        if (!row) throw new Error('subscriber vanished while signing up');
        if (!inserted.has(item.emailKey) && row.status === 'confirmed') {
          mails.push({
            subscriber_id: row.id,
            kind: 'already_subscribed',
            confirm_nonce: null,
            status: 'queued',
            next_attempt_at: item.at,
            created_at: item.at,
          });
          continue;
        }
        // Still pending: the new mail carries the live nonce, so the links of earlier mails keep working
        // (a reader who signed up twice may press either). Unsubscribed: a fresh nonce, so no link mailed
        // before the withdrawal can confirm.
        const nonce = row.status === 'pending' && row.confirm_nonce ? row.confirm_nonce : item.nonce;
        if (!inserted.has(item.emailKey) && nonce === row.confirm_nonce) resent.push(row.id);
        if (!inserted.has(item.emailKey))
          await updateSubscriber(trx, row.id, { status: 'pending', confirm_nonce: nonce, confirm_sent_at: item.at });
        events.push({
          subscriber_id: row.id,
          email_hash: item.emailHash,
          kind: 'signup',
          terms_version: terms?.version ?? null,
          terms_hash: terms?.content_hash ?? null,
          privacy_version: privacy?.version ?? null,
          privacy_hash: privacy?.content_hash ?? null,
          form_wording: settings.consentLabel,
          source_url: item.sourceUrl,
          ip: item.ip,
          user_agent: item.userAgent,
          detail: JSON.stringify({ heading: settings.signupHeading, pitch: settings.signupPitch }),
          created_at: item.at,
        });
        mails.push({
          subscriber_id: row.id,
          kind: 'confirm',
          confirm_nonce: nonce,
          status: 'queued',
          next_attempt_at: item.at,
          created_at: item.at,
        });
      }
      await insertConsentEvents(trx, events);
      // An earlier mail with the same link that has not left yet (the SMTP server was down): send one only.
      await skipQueuedConfirmMails(trx, resent);
      const mailIds = await insertSubscriberMails(trx, mails);
      for (const i of round) {
        const row = inserted.get(items[i]!.emailKey) ?? known.get(items[i]!.emailKey);
        results[i] = row ? (mailIds.get(row.id) ?? null) : null;
      }
      remaining = later;
    }
    return results;
  });
}

async function currentLegal(db: Db, kind: 'terms' | 'privacy'): Promise<LegalDocumentRow | null> {
  try {
    return await getLegalDocument(db, kind);
  } catch (error) {
    if (error instanceof AppError && error.code === 'legal.not_found') return null;
    throw error;
  }
}

/** Applies IP_STORAGE to an address as Fastify reports it. */
export function storeIp(ip: string, mode: Config['ipStorage'], secret: string): string | null {
  const plain = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (!isIPv4(plain) && !isIPv6(plain)) return null;
  switch (mode) {
    case 'full':
      return plain;
    case 'hashed':
      return createHmac('sha256', secret).update(`ip:${plain}`).digest('hex');
    case 'truncated':
      return isIPv4(plain)
        ? plain.split('.').slice(0, 3).concat('0').join('.')
        : `${expandIpv6(plain).slice(0, 3).join(':')}::`;
  }
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail counts as two). */
function expandIpv6(ip: string): string[] {
  const withoutZone = ip.split('%')[0] ?? ip;
  const [head = '', tail] = withoutZone.split('::');
  const part = (s: string) => (s ? s.split(':') : []).flatMap((g) => (g.includes('.') ? ipv4Groups(g) : [g]));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}

function ipv4Groups(ip: string): string[] {
  const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

/** Confirmations per UTC day for the last `days` days up to `now`, every day present (zero when none). */
export async function subscriberGrowth(db: Db, now: Date, days: number): Promise<{ label: string; value: number }[]> {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
  const counted = new Map((await countConfirmedPerDay(db, start.toISOString())).map((p) => [p.day, p.count]));
  return Array.from({ length: days }, (_, i) => {
    const day = new Date(start.getTime() + i * 86_400_000).toISOString().slice(0, 10);
    return { label: day, value: counted.get(day) ?? 0 };
  });
}

/** How many subscribers are in each status (the newsroom's dashboard). */
export function subscriberCountsByStatus(db: Db): Promise<Record<SubscriberStatus, number>> {
  return countSubscribersByStatus(db);
}
