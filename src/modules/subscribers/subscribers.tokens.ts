import {
  createHash,
  createHmac,
  createSecretKey,
  hash,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/**
 * Signed links. Each purpose derives its own key from the secret, so a token made for one purpose can
 * never be replayed as another. Tokens are URL-safe (base64url and dots) and carry no address.
 *
 * - confirmation: `<id>.<nonce>.<expires (unix s)>.<mac>` — expiring, and single-use because the nonce must
 *   still match `subscribers.confirm_nonce`, which confirming clears (and a newer sign-up replaces).
 * - manage: `m<id>.<mac>` — the self-service page (download or erase the reader's data), only in the
 *   visible "manage" link of a mail's body and on the page shown after confirming.
 * - unsubscribe: `u<id>.<sha256 of the manage mac>` — in List-Unsubscribe, its mailto subject and the
 *   one-click POST. Every system a mail passes through sees these headers, so this token can do nothing
 *   but unsubscribe. Made one-way from the manage token (whoever may manage may unsubscribe; the hash
 *   gives nothing back), so a newsletter pays one HMAC per reader for both, plus a ~1 µs hash.
 * - recipient (legacy): `<id>.<mac>` — the one token every mail carried before unsubscribe and manage
 *   were split. Mails already sent still hold it, in their headers too, so it is still honoured for
 *   unsubscribing (its one harmless power) and no longer opens the self-service page.
 * All three are stable per subscriber, so links in older mails keep working; they die with the row when
 * the subscriber is erased.
 */
type Purpose = 'confirm' | 'recipient' | 'manage' | 'email-hash';

/** How long a confirmation link stays valid. */
export const confirmLinkLifetimeMs = 48 * 3600_000;

function mac(secret: string, purpose: Purpose, payload: string): string {
  return createHmac('sha256', purposeKey(secret, purpose)).update(payload).digest('base64url');
}

/**
 * Derived purpose keys, kept per secret and purpose: a newsletter send makes one token per message, and
 * deriving the key each time doubled the HMACs. Held as KeyObjects because Node 24 turns a raw key into
 * one on every `createHmac` (26 µs per token with a Buffer key, 4 µs with a KeyObject, measured here).
 * A process sees one secret (a few in tests), so the map stays tiny; it is emptied if it ever grows.
 */
const purposeKeys = new Map<string, KeyObject>();

function purposeKey(secret: string, purpose: Purpose): KeyObject {
  const id = `${purpose}\0${secret}`;
  let key = purposeKeys.get(id);
  if (!key) {
    if (purposeKeys.size >= 64) purposeKeys.clear();
    key = createSecretKey(createHmac('sha256', secret).update(`gazette:${purpose}`).digest());
    purposeKeys.set(id, key);
  }
  return key;
}

function sameMac(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A fresh nonce for `confirm_nonce`. */
export function newConfirmNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function createConfirmToken(secret: string, subscriberId: number, nonce: string, expiresAt: Date): string {
  const payload = `${subscriberId}.${nonce}.${Math.floor(expiresAt.getTime() / 1000)}`;
  return `${payload}.${mac(secret, 'confirm', payload)}`;
}

export type ConfirmTokenCheck =
  | { kind: 'valid'; subscriberId: number; nonce: string }
  | { kind: 'expired'; subscriberId: number }
  | { kind: 'invalid' };

/** Checks the signature and the expiry; whether the nonce is still live is the service's question. */
export function verifyConfirmToken(secret: string, token: string, now: Date): ConfirmTokenCheck {
  const match = /^([1-9]\d{0,15})\.([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return { kind: 'invalid' };
  const [, id = '', nonce = '', expires = '', signature = ''] = match;
  if (!sameMac(mac(secret, 'confirm', `${id}.${nonce}.${expires}`), signature)) return { kind: 'invalid' };
  if (Number(expires) * 1000 <= now.getTime()) return { kind: 'expired', subscriberId: Number(id) };
  return { kind: 'valid', subscriberId: Number(id), nonce };
}

/** A subscriber's two tokens, from one HMAC. */
export function createSubscriberTokens(secret: string, subscriberId: number): { unsubscribe: string; manage: string } {
  const manage = mac(secret, 'manage', String(subscriberId));
  return { unsubscribe: `u${subscriberId}.${unsubscribeMac(manage)}`, manage: `m${subscriberId}.${manage}` };
}

/** A per-subscriber token for one purpose: unsubscribe (`u<id>.…`) or self-service (`m<id>.…`). */
export function createSubscriberToken(secret: string, purpose: 'unsubscribe' | 'manage', subscriberId: number): string {
  return createSubscriberTokens(secret, subscriberId)[purpose];
}

function unsubscribeMac(manageMac: string): string {
  return hash('sha256', `gazette:unsubscribe:${manageMac}`, 'base64url');
}

/**
 * The subscriber id a token names for `purpose`, or null when it is malformed, forged or made for another
 * purpose. Unsubscribing also takes the legacy recipient token of older mails, and a manage token (its
 * holder may erase the address anyway).
 */
export function verifySubscriberToken(secret: string, purpose: 'unsubscribe' | 'manage', token: string): number | null {
  const match = /^([um]?)([1-9]\d{0,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const [, prefix = '', id = '', signature = ''] = match;
  if (purpose === 'manage' && prefix !== 'm') return null;
  const expected =
    prefix === 'u'
      ? unsubscribeMac(mac(secret, 'manage', id))
      : mac(secret, prefix === 'm' ? 'manage' : 'recipient', id);
  return sameMac(expected, signature) ? Number(id) : null;
}

/** The legacy per-recipient token (see above); made only to test that older mails' links still behave. */
export function createLegacyRecipientToken(secret: string, subscriberId: number): string {
  return `${subscriberId}.${mac(secret, 'recipient', String(subscriberId))}`;
}

/**
 * The https one-click unsubscribe URL for List-Unsubscribe (RFC 8058): a POST to it with the body
 * `List-Unsubscribe=One-Click` unsubscribes at once; a GET shows a page with a button.
 */
export function unsubscribeUrl(siteUrl: string, secret: string, subscriberId: number): string {
  return `${siteUrl.replace(/\/+$/, '')}/newsletter/unsubscribe?token=${createSubscriberToken(secret, 'unsubscribe', subscriberId)}`;
}

/**
 * The mailto: alternative for List-Unsubscribe (RFC 2369 §3.2), to the sending address with the token in
 * the subject. Gazette does not read incoming mail: whoever reads that mailbox acts on these by hand.
 */
export function unsubscribeMailto(mailFrom: string, secret: string, subscriberId: number): string {
  const address = /<([^<>\s]+@[^<>\s]+)>/.exec(mailFrom)?.[1] ?? mailFrom.trim();
  return `mailto:${address}?subject=${encodeURIComponent(`unsubscribe ${createSubscriberToken(secret, 'unsubscribe', subscriberId)}`)}`;
}

/** The self-service page (export my data, delete me), linked from every mail. */
export function manageUrl(siteUrl: string, secret: string, subscriberId: number): string {
  return `${siteUrl.replace(/\/+$/, '')}/newsletter/me?token=${createSubscriberToken(secret, 'manage', subscriberId)}`;
}

/**
 * The hash kept for an erased or bounced address (`suppressions`, `consent_events.email_hash`): an HMAC,
 * under a key derived from the secret, of the SHA-256 of the normalised key (`subscribers.email_key`).
 * Keyed, because a bare SHA-256 of an address is reversed by hashing a list of addresses; over the
 * SHA-256 rather than the address, because that is what older databases hold (`legacyEmailHash`), so
 * `keyLegacyEmailHashes` can key their rows without the addresses. Written `k1:<hex>`, so a keyed hash
 * is told from a legacy one. A different secret gives different hashes: see keyLegacyEmailHashes.
 */
export function emailHash(secret: string, emailKey: string): string {
  return keyEmailHash(secret, legacyEmailHash(emailKey));
}

/** The keyed form of a legacy (bare SHA-256) hash. */
export function keyEmailHash(secret: string, legacyHash: string): string {
  return `${keyedEmailHashPrefix}${createHmac('sha256', purposeKey(secret, 'email-hash')).update(legacyHash).digest('hex')}`;
}

export const keyedEmailHashPrefix = 'k1:';

/** The unkeyed SHA-256 that databases written before the keyed form hold. */
export function legacyEmailHash(emailKey: string): string {
  return createHash('sha256').update(emailKey).digest('hex');
}
