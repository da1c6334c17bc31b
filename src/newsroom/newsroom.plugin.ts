import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';
import type { NewsroomAuth } from '../modules/users/index.ts';

export interface NewsroomPluginOptions {
  auth: NewsroomAuth;
  /**
   * Registers every screen of the newsroom inside this plugin, so that the hooks below apply to them and
   * to nothing else; their paths are relative to the prefix (`/articles` is `/newsroom/articles`).
   */
  screens: (newsroom: FastifyInstance) => Promise<void>;
}

/**
 * The newsroom: one plugin registered with the prefix `/newsroom`, holding every signed-in screen and the
 * sign-in pages. Its hooks belong to its own context (Fastify's encapsulation), so they reach exactly the
 * newsroom's routes, however the URL was spelled (`//newsroom/x`, `/newsroom/x/`), and never the public site:
 * - the signed-in user is looked up once per request and kept on it (`request.newsroomUser`);
 * - every state-changing request carries a valid CSRF token, or is refused with `auth.csrf` (403) before
 *   the route runs;
 * - answers are never stored by a cache nor their URLs sent on as a Referer.
 * Each route states the least role it needs (`auth.requireRole`); the server checks it on every request.
 */
export async function newsroomPlugin(app: FastifyInstance, options: NewsroomPluginOptions): Promise<void> {
  const { auth } = options;
  app.decorateRequest('newsroomUser', undefined);

  app.addHook('onRequest', async (request) => {
    // Looked up before anything else reads it: the role check, the CSRF check, the page.
    await auth.currentUser(request);
  });

  app.addHook('preHandler', async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    if (!(await auth.hasValidCsrfToken(request))) throw new AppError('auth.csrf');
  });

  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
  });

  await options.screens(app);
}
