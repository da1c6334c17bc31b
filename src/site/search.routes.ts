import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/index.ts';
import { AppError } from '../errors.ts';
import type { SiteContext } from '../ui/layout.ts';
import { searchPage } from './search.pages.ts';
import { maxPage, searchArticles } from '../modules/search/index.ts';

export interface SearchRoutesDeps {
  db: Db;
  /** The publication's settings, sections and assets for the page. */
  site: () => Promise<SiteContext>;
}

/**
 * `q` may arrive repeated (`?q=a&q=b`): the first one counts. Its length is not limited here: the service
 * cuts it (the URL itself is capped at 2,048 characters by the app). A page beyond `maxPage` is refused.
 */
const searchQuerySchema = z.object({
  q: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((q) => (Array.isArray(q) ? (q[0] ?? '') : (q ?? ''))),
  page: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((p) => (Array.isArray(p) ? p[0] : p))
    .pipe(
      z
        .string()
        .regex(/^[1-9]\d{0,5}$/)
        .transform(Number)
        .pipe(z.number().max(maxPage))
        .optional(),
    ),
});

/** `GET /search?q=…&page=N`: full-text search of published articles. Never cached: every query differs. */
export function searchRoutes(app: FastifyInstance, deps: SearchRoutesDeps): Promise<void> {
  app.get('/search', async (request, reply) => {
    const parsed = searchQuerySchema.safeParse(request.query);
    if (!parsed.success)
      throw new AppError('request.bad_query', `The page must be a whole number from 1 to ${maxPage}.`);
    const { q, page = 1 } = parsed.data;
    const [site, found] = await Promise.all([deps.site(), searchArticles(deps.db, q, page)]);
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(searchPage(site, found));
  });
  return Promise.resolve();
}
