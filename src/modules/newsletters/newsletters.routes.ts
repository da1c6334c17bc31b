import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { renderIssuePreview } from './newsletters.service.ts';

const slug = z
  .string()
  .max(200)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
const previewQuerySchema = z.object({
  articles: z
    .string()
    .max(2100)
    .transform((list) => list.split(',').filter(Boolean))
    .pipe(z.array(slug).min(1).max(10)),
  subject: z.string().max(200).optional(),
});

/** Mail HTML is styled inline and has no scripts: allow the one, forbid the other; framable by our own pages only. */
export const mailPreviewCsp =
  "default-src 'none'; img-src 'self' data: https: http:; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

/**
 * The browser preview of a newsletter issue made of published articles, exactly as a reader's mail client
 * would get it. Only published articles can be named, so it shows nothing that is not already public.
 */
export function newsletterRoutes(app: FastifyInstance, deps: { db: Db; siteUrl: string }): Promise<void> {
  app.get('/newsletter/preview', async (request, reply) => {
    const query = previewQuerySchema.safeParse(request.query);
    if (!query.success)
      throw new AppError(
        'request.bad_query',
        'Name up to ten published articles: /newsletter/preview?articles=<slug>,<slug>.',
      );
    const preview = await renderIssuePreview(deps.db, deps.siteUrl, {
      slugs: query.data.articles,
      subject: query.data.subject,
    });
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-robots-tag', 'noindex')
      .header('content-security-policy', mailPreviewCsp)
      .send(preview.html);
  });
  return Promise.resolve();
}
