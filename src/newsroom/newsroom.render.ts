// The newsroom's page renderer: the shell around every signed-in screen.
import { AppError } from '../errors.ts';
import type { NewsroomAuth, NewsroomPageRenderer, Role } from '../modules/users/index.ts';
import type { SiteContext } from '../ui/layout.ts';
import { newsroomLayout, type NewsroomRole } from '../ui/newsroom-layout.ts';

/** The users module's roles are the ones the newsroom's navigation knows (a type error here if they part). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const rolesAgree: Same<Role, NewsroomRole> = true;

/** What every newsroom screen needs to render a page in the newsroom shell. */
export interface NewsroomPageDeps {
  /** The publication's settings and assets, as the public site loads them. */
  site: () => Promise<SiteContext>;
  auth: NewsroomAuth;
}

/**
 * Renders a screen inside `newsroomLayout` for the signed-in user of the request (routes have already
 * checked the role with `auth.requireRole`).
 */
export function newsroomPageRenderer(deps: NewsroomPageDeps): NewsroomPageRenderer {
  return async (request, reply, meta, main) => {
    const current = await deps.auth.currentUser(request);
    if (!current) throw new AppError('auth.required');
    const csrf = await deps.auth.csrfTokenFor(request, reply);
    const site = await deps.site();
    const body = newsroomLayout(
      site,
      {
        title: meta.title,
        path: meta.path,
        user: current.user,
        csrf,
        ...(meta.scripts ? { scripts: meta.scripts } : {}),
      },
      main({ current, csrf }),
    );
    return reply
      .code(meta.status ?? 200)
      .type('text/html; charset=utf-8')
      .send(body);
  };
}
