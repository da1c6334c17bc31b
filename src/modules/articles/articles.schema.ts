import { z } from 'zod';
import type { ArticleStatus } from './articles.table.ts';

// The editor form, as the browser posts it (URL-encoded; editor.js posts the same fields). Every field has
// a limit and a message written for the person at the form: the message is shown next to the field.

const oneLine = /^[^\x00-\x1f\x7f]*$/;
/** Text areas keep line breaks and tabs; other control characters have no business in an article. */
const multiLine = /^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/;

export const slugPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const limits = {
  title: 200,
  slug: 120,
  standfirst: 600,
  body: 200_000,
  videoCaption: 300,
  seoTitle: 120,
  seoDescription: 320,
  correctionNote: 2000,
  tagName: 60,
  /** Bylines on one article. */
  authors: 8,
  tags: 12,
} as const;

/** A form value that may come once (a string) or several times (an array); absent is an empty list. */
const list = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]));

const idList = (what: string) =>
  list.transform((values, ctx) => {
    const ids: number[] = [];
    for (const value of values) {
      if (value === '') continue; // an empty "Author 3" select
      if (!/^[1-9]\d{0,9}$/.test(value)) {
        ctx.addIssue({ code: 'custom', message: `That is not a known ${what}.` });
        return z.NEVER;
      }
      if (!ids.includes(Number(value))) ids.push(Number(value));
    }
    return ids;
  });

const optionalId = (what: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return null;
      if (!/^[1-9]\d{0,9}$/.test(value)) {
        ctx.addIssue({ code: 'custom', message: `That is not a known ${what}.` });
        return z.NEVER;
      }
      return Number(value);
    });

const text = (max: number, label: string, pattern = oneLine) =>
  z
    .string()
    .optional()
    .transform((value) => (value ?? '').replace(/\r\n?/g, '\n').trim())
    .pipe(
      z
        .string()
        .max(max, `${label} can be at most ${max.toLocaleString('en')} characters long.`)
        .regex(pattern, `${label} holds a control character; please retype it.`),
    );

export const editorActions = ['save', 'publish', 'schedule', 'unpublish', 'preview'] as const;
export type EditorAction = (typeof editorActions)[number];

export const articleFormSchema = z.object({
  title: text(limits.title, 'The title').pipe(z.string().min(1, 'Please give the article a title.')),
  slug: text(limits.slug, 'The slug').pipe(
    z
      .string()
      .refine(
        (slug) => slug === '' || slugPattern.test(slug),
        'Use lowercase letters, digits and single hyphens, like “city-council-votes”.',
      ),
  ),
  standfirst: text(limits.standfirst, 'The standfirst', multiLine),
  body: text(limits.body, 'The body', multiLine),
  tags: idList('tag'),
  new_tags: text(500, 'New tags')
    .transform((value) =>
      value
        .split(',')
        .map((name) => name.trim().replace(/\s+/g, ' '))
        .filter((name) => name !== ''),
    )
    .pipe(
      z
        .array(z.string().max(limits.tagName, `A tag name can be at most ${limits.tagName} characters long.`))
        .max(limits.tags, `At most ${limits.tags} tags.`),
    ),
  authors: idList('author').pipe(z.array(z.number()).max(limits.authors, `At most ${limits.authors} authors.`)),
  feature_image_id: optionalId('image'),
  video_id: optionalId('video'),
  video_caption: text(limits.videoCaption, 'The video caption'),
  seo_title: text(limits.seoTitle, 'The search title'),
  seo_description: text(limits.seoDescription, 'The search description', multiLine),
  correction_note: text(limits.correctionNote, 'The correction', multiLine),
  /** `YYYY-MM-DDTHH:MM` in the publication's time zone (an `<input type="datetime-local">`), or empty. */
  scheduled_at: z
    .string()
    .optional()
    .transform((value) => (value ?? '').trim())
    .pipe(
      z
        .string()
        .refine(
          (value) => value === '' || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value),
          'Please give a date and time, like 2026-12-01 09:30.',
        ),
    ),
  /** The article revision this form started from (absent on a new article). */
  revision: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return null;
      if (!/^\d{1,9}$/.test(value)) {
        ctx.addIssue({ code: 'custom', message: 'The form is damaged; please reload the page.' });
        return z.NEVER;
      }
      return Number(value);
    }),
  action: z.enum(editorActions).optional().default('save'),
});

export type ArticleForm = z.output<typeof articleFormSchema>;
export type ArticleFormField = keyof ArticleForm;

/** Field → the first message about it; for showing next to the field. */
export type FieldErrors = Partial<Record<ArticleFormField | 'form', string>>;

export function fieldErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? 'form') as ArticleFormField | 'form';
    errors[field] ??= issue.message;
  }
  return errors;
}

/** The raw typed values, kept so a refused form comes back with everything that was typed. */
export function typedValues(body: unknown): Record<string, string | string[]> {
  const typed: Record<string, string | string[]> = {};
  if (!body || typeof body !== 'object') return typed;
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value === 'string') typed[key] = value.slice(0, limits.body);
    else if (Array.isArray(value)) typed[key] = value.filter((v): v is string => typeof v === 'string').slice(0, 50);
  }
  return typed;
}

const statuses = ['draft', 'scheduled', 'published', 'unpublished'] as const satisfies ArticleStatus[];
export const listQuerySchema = z.object({ status: z.enum(statuses).optional().catch(undefined) });

export const idParamSchema = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,9}$/)
    .transform(Number),
});
export const revisionParamSchema = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,9}$/)
    .transform(Number),
  revisionId: z
    .string()
    .regex(/^[1-9]\d{0,9}$/)
    .transform(Number),
});
export const diffQuerySchema = z.object({
  from: z
    .string()
    .regex(/^[1-9]\d{0,9}$/)
    .transform(Number),
  to: z
    .string()
    .regex(/^[1-9]\d{0,9}$/)
    .transform(Number),
});
export const previewSchema = z.object({
  body: z.string().max(limits.body, 'The body is too long to preview.').optional().default(''),
});

/** A slug made from a title (the editor's script makes the same one as the title is typed). */
export { slugify } from '../../ui/slug.ts';

/**
 * `2026-12-01T09:30` read as a wall-clock time in `timeZone` → an ISO UTC instant, or null if there is no
 * such time. Two passes settle the zone's offset, which may differ either side of a DST change.
 */
export function zonedToUtc(local: string, timeZone: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, Number.isNaN(s) ? 0 : s);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59) return null;
  const offsetAt = (instant: number) => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      })
        .formatToParts(new Date(instant))
        .map((p) => [p.type, p.value]),
    );
    const asUtc = Date.UTC(
      Number(parts.year),
      Number(parts.month) - 1,
      Number(parts.day),
      Number(parts.hour),
      Number(parts.minute),
      Number(parts.second),
    );
    return asUtc - instant;
  };
  let instant = wall - offsetAt(wall);
  instant = wall - offsetAt(instant);
  return new Date(instant).toISOString();
}

/** An ISO instant → `YYYY-MM-DDTHH:MM` in `timeZone`, for a datetime-local input. */
export function utcToZoned(iso: string, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}
