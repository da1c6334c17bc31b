import { domainToASCII } from 'node:url';
import { z } from 'zod';

/** RFC 5321 §4.5.3.1: 64 octets of local part; 254 for a whole address that fits a forward-path. */
const maxLocalLength = 64;
export const maxEmailLength = 254;
/** RFC 5322 dot-atom; quoted local parts are legal but rare enough that we refuse them. */
const localPartPattern = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const domainLabelPattern = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const controlCharacters = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

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

/** A name from an import or a form: one line of text, no control characters. */
export const nameSchema = z
  .string()
  .trim()
  .max(200)
  .refine((name) => !controlCharacters.test(name), 'must be one line without control characters');

/** The sign-up form (`signupBlock`); every field optional here so the service can answer each case. */
export const signupFormSchema = z.object({
  email: z.string().max(4096).optional().default(''),
  consent: z.string().max(16).optional(),
  source: z.string().max(2048).optional(),
  /** The honeypot: people never see it, so anything typed there came from a robot. */
  website: z.string().max(4096).optional(),
});
export type SignupForm = z.infer<typeof signupFormSchema>;

/** A signed token in a query string or a form field; its signature is checked by the service. */
export const tokenSchema = z.string().min(1).max(512).regex(/^[A-Za-z0-9._-]+$/);
export const tokenQuerySchema = z.object({ token: tokenSchema });
export const tokenFormSchema = z.object({ token: tokenSchema });

/**
 * The page a sign-up came from: a same-site path (`/articles/x`), never a URL to elsewhere
 * (`//evil.example`, `https://…`, `/\evil`). Anything else is recorded as unknown.
 */
export function sameSitePath(source: string | undefined): string | null {
  if (!source || source.length > 500 || !source.startsWith('/') || source.startsWith('//') || source.includes('\\')) return null;
  if (controlCharacters.test(source) || /\s/.test(source)) return null;
  return source;
}

/** One row of an imported CSV, after its header has named the columns. */
export const importRowSchema = z.object({
  email: z.string(),
  name: nameSchema.optional().transform((name) => (name ? name : null)),
  status: z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((status) => status ?? '')
    .pipe(z.enum(['', 'pending', 'confirmed', 'unsubscribed'], { message: 'status must be confirmed, pending, unsubscribed or empty' })),
  consented_at: z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (!value) return null;
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) {
        ctx.addIssue({ code: 'custom', message: 'consented_at is not a date' });
        return z.NEVER;
      }
      return date.toISOString();
    }),
});
export type ImportRow = z.infer<typeof importRowSchema>;
