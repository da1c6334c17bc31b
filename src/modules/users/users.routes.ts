import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { loadSiteContext } from '../../web/site-context.ts';
import type { StaticAssets } from '../../web/static-assets.ts';
import type { SiteContext } from '../../web/templates/layout.ts';
import type { NewsroomAuth } from './users.auth.ts';
import { dashboardPage, signInLinkPage, signInPage, usersPage } from './users.pages.ts';
import { dashboardQuerySchema, linkTokenSchema, passwordFormSchema, signInFormSchema } from './users.schema.ts';
import { hasRole, ThrottledError, type ClientInfo, type UserService } from './users.service.ts';

export interface UserRoutesDeps {
  db: Db;
  config: Pick<Config, 'siteUrl'>;
  assets: StaticAssets;
  now: () => Date;
  users: UserService;
  auth: NewsroomAuth;
}

/** A sign-in form is a few hundred bytes; anything much larger is refused with 413 before parsing. */
const formBodyLimit = 16 * 1024;
const htmlType = 'text/html; charset=utf-8';

function client(request: FastifyRequest): ClientInfo {
  return { ip: request.ip, userAgent: request.headers['user-agent'] };
}

function parseLinkToken(value: unknown): string {
  const parsed = linkTokenSchema.safeParse(value ?? {});
  if (!parsed.success) throw new AppError('auth.bad_link');
  return parsed.data.token;
}

/**
 * The newsroom's account routes: sign-in by password or one-time link, sign-out (here or everywhere), the
 * dashboard and the admin's user list. CSRF and no-store come from `installNewsroomGuards` in app.ts.
 */
export function userRoutes(app: FastifyInstance, deps: UserRoutesDeps): Promise<void> {
  const { users, auth } = deps;
  const site = (): Promise<SiteContext> => loadSiteContext(deps.db, deps.config.siteUrl, deps.assets, deps.now());
  const send = (reply: FastifyReply, body: string, status = 200) => reply.code(status).type(htmlType).send(body);

  app.get('/newsroom/sign-in', async (request, reply) => {
    if (await auth.currentUser(request)) return reply.redirect('/newsroom', 303);
    return send(reply, signInPage(await site(), { csrf: await auth.csrfTokenFor(request, reply) }));
  });

  app.post('/newsroom/sign-in', { bodyLimit: formBodyLimit }, async (request, reply) => {
    const parsed = signInFormSchema.safeParse(request.body ?? {});
    const typed = typeof (request.body as { email?: unknown } | undefined)?.email === 'string' ? String((request.body as { email: string }).email) : '';
    const again = async (status: number, error: string, email: string) =>
      send(reply, signInPage(await site(), { csrf: await auth.csrfTokenFor(request, reply), error, email }), status);
    if (!parsed.success) return again(400, 'Please enter your email address and your password.', cleanEmail(typed));
    try {
      const signedIn = await users.signInWithPassword(parsed.data.email, parsed.data.password, client(request));
      auth.setSessionCookie(reply, signedIn.token);
      return reply.redirect('/newsroom', 303);
    } catch (error) {
      if (error instanceof ThrottledError) {
        reply.header('retry-after', String(error.retryAfterSeconds));
        return again(error.status, error.message, parsed.data.email);
      }
      if (error instanceof AppError && error.code === 'auth.failed') return again(error.status, error.message, parsed.data.email);
      throw error;
    }
  });

  app.get('/newsroom/sign-in/link', async (request, reply) => {
    const token = parseLinkToken(request.query);
    await users.checkSignInLink(token);
    return send(reply, signInLinkPage(await site(), { csrf: await auth.csrfTokenFor(request, reply), token }));
  });

  app.post('/newsroom/sign-in/link', { bodyLimit: formBodyLimit }, async (request, reply) => {
    const signedIn = await users.signInWithLink(parseLinkToken(request.body), client(request));
    auth.setSessionCookie(reply, signedIn.token);
    return reply.redirect('/newsroom', 303);
  });

  app.post('/newsroom/sign-out', { bodyLimit: formBodyLimit }, async (request, reply) => {
    const current = await auth.currentUser(request);
    if (current) await users.signOut(current.sessionId);
    auth.clearSessionCookie(reply);
    return reply.redirect('/newsroom/sign-in', 303);
  });

  app.post('/newsroom/sign-out-everywhere', { bodyLimit: formBodyLimit, preHandler: auth.requireRole('contributor') }, async (request, reply) => {
    const current = await auth.currentUser(request);
    if (current) await users.signOutEverywhere(current.user.id);
    auth.clearSessionCookie(reply);
    return reply.redirect('/newsroom/sign-in', 303);
  });

  const dashboard = async (request: FastifyRequest, reply: FastifyReply, extra: { notice?: string; error?: string } = {}, status = 200) => {
    const current = await auth.currentUser(request);
    if (!current) throw new AppError('auth.required');
    const csrf = await auth.csrfTokenFor(request, reply);
    return send(reply, dashboardPage(await site(), { user: current.user, csrf, isAdmin: hasRole(current.user.role, 'admin'), ...extra }), status);
  };

  app.get('/newsroom', { preHandler: auth.requireRole('contributor') }, (request, reply) => {
    const saved = dashboardQuerySchema.safeParse(request.query ?? {}).data?.saved;
    return dashboard(request, reply, saved === 'password' ? { notice: 'Your password is saved. Your other sessions were signed out.' } : {});
  });

  app.post('/newsroom/password', { bodyLimit: formBodyLimit, preHandler: auth.requireRole('contributor') }, async (request, reply) => {
    const current = await auth.currentUser(request);
    if (!current) throw new AppError('auth.required');
    const parsed = passwordFormSchema.safeParse(request.body ?? {});
    try {
      if (!parsed.success) throw new AppError('user.weak_password');
      await users.setPassword(current.user.id, current.sessionId, parsed.data.password, parsed.data.repeat);
    } catch (error) {
      if (error instanceof AppError && (error.code === 'user.weak_password' || error.code === 'user.password_mismatch')) {
        return dashboard(request, reply, { error: error.message }, error.status);
      }
      throw error;
    }
    // Post/redirect/get, so a reload does not post the password again.
    return reply.redirect('/newsroom?saved=password', 303);
  });

  app.get('/newsroom/users', { preHandler: auth.requireRole('admin') }, async (_request, reply) => {
    return send(reply, usersPage(await site(), await users.listUsers()));
  });

  return Promise.resolve();
}

/** What was typed, safe to show again: one line, not absurdly long. */
function cleanEmail(typed: string): string {
  return typed.length <= 254 ? typed.replace(/[\x00-\x1f\x7f]/g, '') : '';
}
