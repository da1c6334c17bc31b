import { z } from 'zod';

// Addresses are checked by the shared kit (the newsroom's users use the same rule).
export { maxEmailLength, normaliseEmail, type NormalisedEmail } from '../../email-address.ts';
import { controlCharacters } from '../../email-address.ts';

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
export const tokenSchema = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9._-]+$/);
export const tokenQuerySchema = z.object({ token: tokenSchema });
export const tokenFormSchema = z.object({ token: tokenSchema });

/**
 * The page a sign-up came from: a same-site path (`/articles/x`), never a URL to elsewhere
 * (`//evil.example`, `https://…`, `/\evil`). Anything else is recorded as unknown.
 */
export function sameSitePath(source: string | undefined): string | null {
  if (!source || source.length > 500 || !source.startsWith('/') || source.startsWith('//') || source.includes('\\'))
    return null;
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
    .pipe(
      z.enum(['', 'pending', 'confirmed', 'unsubscribed'], {
        message: 'status must be confirmed, pending, unsubscribed or empty',
      }),
    ),
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
