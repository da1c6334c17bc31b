import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { createMessageIds } from './mail.mime.ts';

/** Hex characters of the tag: 80 bits. */
const tagLength = 20;

/*
 * VERP (variable envelope return path): each newsletter message leaves with its own envelope sender,
 * `<local>+d<delivery id>-<tag>@<domain>` built on BOUNCE_ADDRESS, so a bounce, which goes to the envelope
 * sender (RFC 5321 §4.5.5), names the one delivery it is about, and so does a complaint whose report
 * quotes the message's Return-Path. The tag is an HMAC of the delivery id under a key derived from the
 * secret, so nobody can make a tag for another delivery; it is hex because mail servers may lower-case a
 * local part (RFC 5321 §2.4 lets the receiving host treat it as it likes), and 80 bits because a forger gets
 * one guess per mail sent to us.
 */

function verpTag(secret: string): (deliveryId: number) => string {
  const key = createSecretKey(createHmac('sha256', secret).update('gazette:verp').digest());
  return (deliveryId) => createHmac('sha256', key).update(`delivery:${deliveryId}`).digest('hex').slice(0, tagLength);
}

/** The envelope sender (MAIL FROM) of each delivery's message, built on BOUNCE_ADDRESS. */
export function createVerpSender(secret: string, bounceAddress: string): (deliveryId: number) => string {
  const at = bounceAddress.lastIndexOf('@');
  const local = bounceAddress.slice(0, at);
  const domain = bounceAddress.slice(at + 1);
  const tagOf = verpTag(secret);
  return (deliveryId) => `${local}+d${deliveryId}-${tagOf(deliveryId)}@${domain}`;
}

/** What a text's tags say: the deliveries whose tags are genuine, and how many tags were not. */
export interface TagsFound {
  deliveries: Set<number>;
  forged: number;
}

/**
 * The deliveries named by genuine VERP tags anywhere in `text` (an address, a header, a whole message),
 * matched without regard to case. Only the `+d<id>-<tag>@` part and its HMAC decide: the local part and
 * the domain before and after it may have been rewritten, or BOUNCE_ADDRESS changed since the send.
 */
export function verpDeliveriesIn(secret: string, text: string): TagsFound {
  const tagOf = verpTag(secret);
  const found: TagsFound = { deliveries: new Set(), forged: 0 };
  for (const match of text.toLowerCase().matchAll(/\+d([1-9][0-9]{0,14})-([0-9a-f]{20})@/g)) {
    const id = Number(match[1]);
    if (sameText(tagOf(id), match[2] ?? '')) found.deliveries.add(id);
    else found.forged++;
  }
  return found;
}

/**
 * The deliveries named by genuine newsletter Message-IDs (`<gazette.<issue>.<delivery>.<tag>@host>`, see
 * createMessageIds) in `text`: a bounce or complaint that quotes the original headers carries one even
 * when the envelope sender was not VERP. Case-sensitive, as the tag is base64url.
 */
export function messageIdDeliveriesIn(secret: string, text: string): TagsFound {
  const found: TagsFound = { deliveries: new Set(), forged: 0 };
  for (const match of text.matchAll(
    /<gazette\.([1-9][0-9]{0,14})\.([1-9][0-9]{0,14})\.([A-Za-z0-9_-]{16})@([^<>\s]{1,255})>/g,
  )) {
    const [whole, issue = '', delivery = '', , host = ''] = match;
    if (sameText(createMessageIds(secret, host)(`gazette.${issue}.${delivery}`), whole))
      found.deliveries.add(Number(delivery));
    else found.forged++;
  }
  return found;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
