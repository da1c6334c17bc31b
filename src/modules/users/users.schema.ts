import { z } from 'zod';
import { roles } from './users.table.ts';

const controlCharacters = /[\x00-\x1f\x7f]/;

/** The sign-in form. Limits keep an oversized field from reaching scrypt or the database. */
export const signInFormSchema = z.object({
  email: z
    .string()
    .trim()
    .min(1)
    .max(254)
    .refine((email) => !controlCharacters.test(email)),
  password: z.string().min(1).max(1024),
});
export type SignInForm = z.infer<typeof signInFormSchema>;

/** A sign-in link's token, in the query (GET) or the form (POST). */
export const linkTokenSchema = z.object({ token: z.string().max(100) });

export const roleSchema = z.enum(roles);

/** The dashboard's password form; strength is the service's rule (passwords.ts). */
export const passwordFormSchema = z.object({
  /** Asked of a user who has a password already, so a borrowed session cannot change it. */
  current: z.string().max(1024).optional(),
  password: z.string().max(1024),
  repeat: z.string().max(1024),
});

/** `/newsroom?saved=password` after the password form (post/redirect/get); anything else is ignored. */
export const dashboardQuerySchema = z.object({ saved: z.enum(['password']).optional() });

/** The admin's invitation form. */
export const inviteFormSchema = z.object({
  email: z.string().trim().min(1).max(254),
  name: z
    .string()
    .trim()
    .max(200)
    .refine((name) => !controlCharacters.test(name))
    .optional()
    .default(''),
  role: roleSchema,
});

/** The users list's role form. */
export const roleFormSchema = z.object({ role: roleSchema });

export const userIdParamsSchema = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});
