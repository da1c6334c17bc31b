import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/index.ts';
import { AppError } from '../errors.ts';
import type { SafeHtml } from '../ui/html.ts';
import { loadSiteContext } from '../site/site-context.ts';
import type { StaticAssets } from '../ui/static-assets.ts';
import { newsroomLayout } from './newsroom.shell.ts';
import type { CurrentUser, NewsroomAuth } from '../modules/users/users.auth.ts';

/** What every newsroom screen needs to render a page in the newsroom shell. */
export interface NewsroomPageDeps {
  db: Db;
  siteUrl: string;
  assets: StaticAssets;
  now: () => Date;
  auth: NewsroomAuth;
}

/** What a screen's template gets: the signed-in user and a CSRF token for its forms. */
export interface NewsroomPageContext {
  current: CurrentUser;
  csrf: string;
}

export type NewsroomPageRenderer = (
  request: FastifyRequest,
  reply: FastifyReply,
  meta: { title: string; path: string; scripts?: string[]; status?: number },
  main: (context: NewsroomPageContext) => SafeHtml,
) => Promise<FastifyReply>;

/**
 * Renders a screen inside `newsroomLayout` for the signed-in user of the request (routes have already
 * checked the role with `auth.requireRole`).
 */
export function newsroomPageRenderer(deps: NewsroomPageDeps): NewsroomPageRenderer {
  return async (request, reply, meta, main) => {
    const current = await deps.auth.currentUser(request);
    if (!current) throw new AppError('auth.required');
    const csrf = await deps.auth.csrfTokenFor(request, reply);
    const site = await loadSiteContext(deps.db, deps.siteUrl, deps.assets, deps.now());
    const body = newsroomLayout(site, { title: meta.title, path: meta.path, user: current.user, csrf, ...(meta.scripts ? { scripts: meta.scripts } : {}) }, main({ current, csrf }));
    return reply.code(meta.status ?? 200).type('text/html; charset=utf-8').send(body);
  };
}
