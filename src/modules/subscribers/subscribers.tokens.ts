import { createHash, createHmac, createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed links. Each purpose derives its own key from the secret, so a token made for one purpose can
 * never be replayed as another. Tokens are URL-safe (base64url and dots) and carry no address.
 *
 * - confirmation: `<id>.<nonce>.<expires (unix s)>.<mac>` — expiring, and single-use because the nonce must
 *   still match `subscribers.confirm_nonce`, which confirming clears (and a newer sign-up replaces).
 * - recipient (unsubscribe and self-service): `<id>.<mac>` — stable per subscriber, so every mail's
 *   List-Unsubscribe link keeps working; it dies with the row when the subscriber is erased.
 */
type Purpose = 'confirm' | 'recipient';

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

/** The per-recipient token for unsubscribe and the self-service page. */
export function createRecipientToken(secret: string, subscriberId: number): string {
  return `${subscriberId}.${mac(secret, 'recipient', String(subscriberId))}`;
}

/** The subscriber id a recipient token names, or null when it is malformed or forged. */
export function verifyRecipientToken(secret: string, token: string): number | null {
  const match = /^([1-9]\d{0,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const [, id = '', signature = ''] = match;
  return sameMac(mac(secret, 'recipient', id), signature) ? Number(id) : null;
}

/**
 * The https one-click unsubscribe URL for List-Unsubscribe (RFC 8058): a POST to it with the body
 * `List-Unsubscribe=One-Click` unsubscribes at once; a GET shows a page with a button.
 */
export function unsubscribeUrl(siteUrl: string, secret: string, subscriberId: number): string {
  return `${siteUrl.replace(/\/+$/, '')}/newsletter/unsubscribe?token=${createRecipientToken(secret, subscriberId)}`;
}

/**
 * The mailto: alternative for List-Unsubscribe (RFC 2369 §3.2), to the sending address with the token in
 * the subject. Gazette does not read incoming mail: whoever reads that mailbox acts on these by hand.
 */
export function unsubscribeMailto(mailFrom: string, secret: string, subscriberId: number): string {
  const address = /<([^<>\s]+@[^<>\s]+)>/.exec(mailFrom)?.[1] ?? mailFrom.trim();
  return `mailto:${address}?subject=${encodeURIComponent(`unsubscribe ${createRecipientToken(secret, subscriberId)}`)}`;
}

/** The self-service page (export my data, delete me), linked from every mail. */
export function manageUrl(siteUrl: string, secret: string, subscriberId: number): string {
  return `${siteUrl.replace(/\/+$/, '')}/newsletter/me?token=${createRecipientToken(secret, subscriberId)}`;
}

/**
 * The hash kept for an erased or bounced address (`suppressions`, `consent_events.email_hash`): SHA-256 of
 * the normalised key (`subscribers.email_key`). Deliberately not keyed with the secret, so a suppression
 * survives a change of SECRET_KEY and the sender can check it without the key.
 */
export function emailHash(emailKey: string): string {
  return createHash('sha256').update(emailKey).digest('hex');
}
