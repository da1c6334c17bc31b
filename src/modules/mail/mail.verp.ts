import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { createMessageIds } from './mail.mime.ts';

/**
 * VERP (variable envelope return path): each newsletter message leaves with its own envelope sender,
 * `<local>+d<delivery id>-<tag>@<domain>` built on BOUNCE_ADDRESS, so a bounce, which goes to the envelope
 * sender (RFC 5321 §4.5.5), names the one delivery it is about, and so does a complaint whose report
 * quotes the message's Return-Path. The tag is an HMAC of the delivery id under a key derived from the
 * secret, so nobody can make a tag for another delivery; it is hex because mail servers may lower-case a
 * local part (RFC 5321 §2.4 lets the receiving host treat it as it likes), and 80 bits because a forger gets
 * one guess per mail sent to us.
 */
export interface VerpAddresses {
  /** The envelope sender (MAIL FROM) of one delivery's message. */
  envelopeSender(deliveryId: number): string;
  /**
   * The delivery whose signed tag `text` carries (an address, or any header value holding one), matched
   * without regard to case; null when there is none or its tag is not ours (forged, altered, another key).
   */
  deliveryOf(text: string): number | null;
}

/** Hex characters of the tag: 80 bits. */
const tagLength = 20;

export function createVerpAddresses(secret: string, bounceAddress: string): VerpAddresses {
  const at = bounceAddress.lastIndexOf('@');
  const local = bounceAddress.slice(0, at);
  const domain = bounceAddress.slice(at + 1);
  const key = createSecretKey(createHmac('sha256', secret).update('gazette:verp').digest());
  const tagOf = (deliveryId: number) => createHmac('sha256', key).update(`delivery:${deliveryId}`).digest('hex').slice(0, tagLength);
  // The tag is read wherever it appears (the domain may have been rewritten on the way back); only the
  // local part and the HMAC decide.
  const pattern = new RegExp(`(?:^|[^a-z0-9._%+-])${local.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\+d([1-9][0-9]{0,14})-([0-9a-f]{${tagLength}})@`, 'g');
  return {
    envelopeSender: (deliveryId) => `${local}+d${deliveryId}-${tagOf(deliveryId)}@${domain}`,
    deliveryOf(text) {
      for (const match of text.toLowerCase().matchAll(pattern)) {
        const id = Number(match[1]);
        if (sameText(tagOf(id), match[2] ?? '')) return id;
      }
      return null;
    },
  };
}

/**
 * The delivery a newsletter message's Message-ID names (`<gazette.<issue>.<delivery>.<tag>@host>`, see
 * createMessageIds), when its tag is genuine: a bounce or complaint that quotes the original headers
 * carries it even when the envelope sender was not VERP. Case-sensitive, as the tag is base64url.
 */
export function deliveryOfMessageId(secret: string, text: string): { issueId: number; deliveryId: number } | null {
  for (const match of text.matchAll(/<gazette\.([1-9][0-9]{0,14})\.([1-9][0-9]{0,14})\.([A-Za-z0-9_-]{16})@([^<>\s]{1,255})>/g)) {
    const [, issue = '', delivery = '', , host = ''] = match;
    if (sameText(createMessageIds(secret, host)(`gazette.${issue}.${delivery}`), match[0])) return { issueId: Number(issue), deliveryId: Number(delivery) };
  }
  return null;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
