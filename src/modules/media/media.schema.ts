import { z } from 'zod';

const controlCharacters = /[\x00-\x1f\x7f]/;

/** `/newsroom/media/:id` and `/newsroom/media/clips/:id`. */
export const idParamSchema = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});

/** The text fields of the upload form (the file is handled by the multipart parser). */
export const uploadFieldsSchema = z.object({
  alt: z
    .string()
    .default('')
    .transform((alt) => alt.trim())
    .refine((alt) => alt.length <= 500 && !controlCharacters.test(alt), { message: 'invalid_alt' }),
  decorative: z.literal('on').optional(),
});
export type UploadFields = z.infer<typeof uploadFieldsSchema>;

/**
 * A time in a video as typed: seconds (`75`, `75.5`), `m:ss` (`1:15`) or `h:mm:ss` (`0:01:15.5`). Returns
 * seconds, or null when it is not such a time.
 */
export function parseTimecode(text: string): number | null {
  const match = /^(?:(?:(\d{1,2}):)?(\d{1,4}):)?(\d{1,5}(?:\.\d{1,3})?)$/.exec(text.trim());
  if (!match) return null;
  const [, h, m, s] = match;
  const minutes = Number(m ?? 0);
  const seconds = Number(s);
  if ((m !== undefined && seconds >= 60) || (h !== undefined && minutes >= 60)) return null;
  return Number(h ?? 0) * 3600 + minutes * 60 + seconds;
}

/** The "Cut a snippet" form. */
export const clipFormSchema = z.object({
  start: z.string().max(20),
  end: z.string().max(20),
});
