import { domainToASCII } from 'node:url';

// Email addresses as Gazette accepts them, for subscribers and newsroom users alike.

/** RFC 5321 §4.5.3.1: 64 octets of local part; 254 for a whole address that fits a forward-path. */
const maxLocalLength = 64;
export const maxEmailLength = 254;
/** RFC 5322 dot-atom; quoted local parts are legal but rare enough that we refuse them. */
const localPartPattern = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const domainLabelPattern = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
export const controlCharacters = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

export interface NormalisedEmail {
  /** As delivered: the local part as typed, the domain in ASCII (punycode). */
  email: string;
  /** Lower-cased, for "is this address known?" (`subscribers.email_key`). */
  emailKey: string;
}

/**
 * Validates an address and brings its domain to ASCII (`bücher.example` → `xn--bcher-kva.example`), or
 * returns null. No CR/LF or other control character can pass, so an address can never inject a header.
 */
export function normaliseEmail(input: string): NormalisedEmail | null {
  const typed = input.trim();
  if (typed.length === 0 || typed.length > maxEmailLength || controlCharacters.test(typed)) return null;
  const at = typed.lastIndexOf('@');
  if (at <= 0) return null;
  const local = typed.slice(0, at);
  const domain = typed.slice(at + 1);
  if (local.length > maxLocalLength || !localPartPattern.test(local)) return null;
  const asciiDomain = domainToASCII(domain).toLowerCase();
  if (!asciiDomain || asciiDomain.length > 253) return null;
  const labels = asciiDomain.split('.');
  if (labels.length < 2 || !labels.every((label) => domainLabelPattern.test(label))) return null;
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return null; // a TLD is never all digits (no bare IPs)
  const email = `${local}@${asciiDomain}`;
  if (email.length > maxEmailLength) return null;
  return { email, emailKey: email.toLowerCase() };
}
