import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/index.ts';
import { AppError } from '../errors.ts';
import { articleCountsByStatus } from '../modules/articles/index.ts';
import { listIssuesWithCounts } from '../modules/newsletters/index.ts';
import { subscriberCountsByStatus } from '../modules/subscribers/index.ts';
import {
  dashboardQuerySchema,
  hasRole,
  passwordFormSchema,
  ThrottledError,
  type NewsroomAuth,
  type NewsroomPageRenderer,
  type UserService,
} from '../modules/users/index.ts';
import { dashboardMain, type DashboardNewsletter } from './dashboard.pages.ts';

export interface DashboardRoutesOptions {
  db: Db;
  users: UserService;
  auth: NewsroomAuth;
  render: NewsroomPageRenderer;
}

/** A password form is a few hundred bytes; anything much larger is refused with 413 before parsing. */
const formBodyLimit = 16 * 1024;

/**
 * The dashboard (`/newsroom`): article counts for everyone, the newsletter for editors and admins, and the
 * signed-in user's password form, which answers on the dashboard itself.
 */
export function dashboardRoutes(app: FastifyInstance, options: DashboardRoutesOptions): Promise<void> {
  const { db, users, auth } = options;

  /** Subscriber counts and the last issue, for editors and admins (the newsletter is theirs). */
  const newsletterSummary = async (): Promise<DashboardNewsletter> => {
    const [subscribers, [last]] = await Promise.all([subscriberCountsByStatus(db), listIssuesWithCounts(db, 1)]);
    return {
      subscribers,
      lastIssue: last
        ? {
            id: last.id,
            subject: last.subject,
            status: last.status,
            sent: last.counts.sent,
            failed: last.counts.failed,
            recipients: last.recipient_count,
          }
        : null,
    };
  };

  const dashboard = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { notice?: string; error?: string } = {},
    status = 200,
  ) => {
    const current = await auth.currentUser(request);
    if (!current) throw new AppError('auth.required');
    const [newsletter, articles] = await Promise.all([
      hasRole(current.user.role, 'editor') ? newsletterSummary() : null,
      articleCountsByStatus(db),
    ]);
    return options.render(request, reply, { title: 'Dashboard', path: '/newsroom', status }, ({ csrf }) =>
      dashboardMain({ user: current.user, csrf, newsletter, articles, ...extra }),
    );
  };

  app.get('/', { preHandler: auth.requireRole('contributor') }, (request, reply) => {
    const saved = dashboardQuerySchema.safeParse(request.query ?? {}).data?.saved;
    return dashboard(
      request,
      reply,
      saved === 'password' ? { notice: 'Your password is saved. Your other sessions were signed out.' } : {},
    );
  });

  app.post(
    '/password',
    { bodyLimit: formBodyLimit, preHandler: auth.requireRole('contributor') },
    async (request, reply) => {
      const current = await auth.currentUser(request);
      if (!current) throw new AppError('auth.required');
      const parsed = passwordFormSchema.safeParse(request.body ?? {});
      try {
        if (!parsed.success) throw new AppError('user.weak_password');
        await users.setPassword(
          current.user.id,
          current.sessionId,
          parsed.data.password,
          parsed.data.repeat,
          parsed.data.current,
        );
      } catch (error) {
        if (error instanceof ThrottledError) reply.header('retry-after', String(error.retryAfterSeconds));
        if (
          error instanceof AppError &&
          [
            'user.weak_password',
            'user.password_mismatch',
            'user.wrong_password',
            'auth.throttled',
            'auth.busy',
          ].includes(error.code)
        ) {
          return dashboard(request, reply, { error: error.message }, error.status);
        }
        throw error;
      }
      // Post/redirect/get, so a reload does not post the password again.
      return reply.redirect('/newsroom?saved=password', 303);
    },
  );
  return Promise.resolve();
}
