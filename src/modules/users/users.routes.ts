import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import type { SiteContext } from '../../ui/layout.ts';
import { getSiteSettings } from '../settings/index.ts';
import type { MailTransport } from '../mail/index.ts';
import type { NewsroomAuth } from './users.auth.ts';
import { inviteUser } from './users.invites.ts';
import type { NewsroomPageRenderer } from './users.auth.ts';
import { signInLinkPage, signInPage, usersMain, type UsersView } from './users.pages.ts';
import {
  inviteFormSchema,
  linkTokenSchema,
  roleFormSchema,
  signInFormSchema,
  userIdParamsSchema,
} from './users.schema.ts';
import { ThrottledError, type ClientInfo, type UserService } from './users.service.ts';
import type { Role } from './users.table.ts';
import { z } from 'zod';

export interface UserRoutesDeps {
  db: Db;
  config: Pick<Config, 'siteUrl'>;
  /** The publication's settings, sections and assets for a page (the public site loads them). */
  site: () => Promise<SiteContext>;
  now: () => Date;
  users: UserService;
  auth: NewsroomAuth;
  /** Invitations leave through it. */
  mail: MailTransport;
  render: NewsroomPageRenderer;
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
  const { site } = deps;
  const send = (reply: FastifyReply, body: string, status = 200) => reply.code(status).type(htmlType).send(body);

  app.get('/sign-in', async (request, reply) => {
    if (await auth.currentUser(request)) return reply.redirect('/newsroom', 303);
    return send(reply, signInPage(await site(), { csrf: await auth.csrfTokenFor(request, reply) }));
  });

  app.post('/sign-in', { bodyLimit: formBodyLimit }, async (request, reply) => {
    const parsed = signInFormSchema.safeParse(request.body ?? {});
    const typed =
      typeof (request.body as { email?: unknown } | undefined)?.email === 'string'
        ? String((request.body as { email: string }).email)
        : '';
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
      if (error instanceof AppError && error.code === 'auth.busy') reply.header('retry-after', '1');
      if (error instanceof AppError && (error.code === 'auth.failed' || error.code === 'auth.busy'))
        return again(error.status, error.message, parsed.data.email);
      throw error;
    }
  });

  app.get('/sign-in/link', async (request, reply) => {
    const token = parseLinkToken(request.query);
    await users.checkSignInLink(token);
    return send(reply, signInLinkPage(await site(), { csrf: await auth.csrfTokenFor(request, reply), token }));
  });

  app.post('/sign-in/link', { bodyLimit: formBodyLimit }, async (request, reply) => {
    const signedIn = await users.signInWithLink(parseLinkToken(request.body), client(request));
    auth.setSessionCookie(reply, signedIn.token);
    return reply.redirect('/newsroom', 303);
  });

  app.post('/sign-out', { bodyLimit: formBodyLimit }, async (request, reply) => {
    const current = await auth.currentUser(request);
    if (current) await users.signOut(current.sessionId);
    auth.clearSessionCookie(reply);
    return reply.redirect('/newsroom/sign-in', 303);
  });

  app.post(
    '/sign-out-everywhere',
    { bodyLimit: formBodyLimit, preHandler: auth.requireRole('contributor') },
    async (request, reply) => {
      const current = await auth.currentUser(request);
      if (current) await users.signOutEverywhere(current.user.id);
      auth.clearSessionCookie(reply);
      return reply.redirect('/newsroom/sign-in', 303);
    },
  );

  const usersPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: Omit<UsersView, 'csrf' | 'users' | 'me'> = {},
    status = 200,
  ) => {
    const current = await auth.currentUser(request);
    if (!current) throw new AppError('auth.required');
    const list = await users.listUsers();
    return deps.render(request, reply, { title: 'Users', path: '/newsroom/users', status }, ({ csrf }) =>
      usersMain({ csrf, users: list, me: current.user.id, ...extra }),
    );
  };

  const admin = auth.requireRole('admin');

  app.get('/users', { preHandler: admin }, (request, reply) => {
    const done = z.object({ done: z.enum(['role', 'disable', 'enable']) }).safeParse(request.query ?? {}).data?.done;
    const notice =
      done === 'role'
        ? 'The role is changed.'
        : done === 'disable'
          ? 'The user is disabled and signed out everywhere.'
          : done === 'enable'
            ? 'The user can sign in again.'
            : undefined;
    return usersPage(request, reply, notice ? { notice } : {});
  });

  app.post('/users/invite', { preHandler: admin, bodyLimit: formBodyLimit }, async (request, reply) => {
    const current = await auth.currentUser(request);
    if (!current) throw new AppError('auth.required');
    const body = (request.body ?? {}) as Record<string, unknown>;
    const typed = {
      email: typeof body.email === 'string' ? cleanEmail(body.email) : '',
      name: typeof body.name === 'string' ? body.name.slice(0, 200) : '',
    };
    const form = inviteFormSchema.safeParse(body);
    try {
      if (!form.success)
        throw new AppError(
          form.error.issues.some((i) => i.path[0] === 'role') ? 'user.invalid_role' : 'user.invalid_email',
        );
      const settings = await getSiteSettings(deps.db);
      const result = await inviteUser(users, deps.mail, {
        ...form.data,
        publicationName: settings.publicationName,
        siteUrl: deps.config.siteUrl,
        invitedBy: current.user.name || current.user.email,
      });
      if (result.mailed)
        return usersPage(request, reply, { notice: `An invitation was mailed to ${result.user.email}.` });
      request.log.warn({ error: result.error }, 'invitation mail not sent');
      return usersPage(
        request,
        reply,
        {
          error: `${result.user.email} was added, but the invitation mail could not be sent (${result.error ?? 'unknown error'}).`,
          link: result.link,
        },
        502,
      );
    } catch (error) {
      if (error instanceof AppError && error.code.startsWith('user.')) {
        return usersPage(
          request,
          reply,
          { error: error.message, invite: { ...typed, role: form.data?.role ?? 'contributor' } },
          error.status,
        );
      }
      throw error;
    }
  });

  const change = (path: string, parse: (body: unknown) => { role: Role } | { disabled: boolean }, done: string) =>
    app.post(path, { preHandler: admin, bodyLimit: formBodyLimit }, async (request, reply) => {
      const params = userIdParamsSchema.safeParse(request.params);
      if (!params.success) throw new AppError('user.not_found');
      try {
        await users.updateUser(params.data.id, parse(request.body));
      } catch (error) {
        if (error instanceof AppError && (error.code === 'user.last_admin' || error.code === 'user.invalid_role'))
          return usersPage(request, reply, { error: error.message }, error.status);
        throw error;
      }
      return reply.redirect(`/newsroom/users?done=${done}`, 303);
    });
  change(
    '/users/:id/role',
    (body) => {
      const parsed = roleFormSchema.safeParse(body ?? {});
      if (!parsed.success) throw new AppError('user.invalid_role');
      return { role: parsed.data.role };
    },
    'role',
  );
  change('/users/:id/disable', () => ({ disabled: true }), 'disable');
  change('/users/:id/enable', () => ({ disabled: false }), 'enable');

  return Promise.resolve();
}

/** What was typed, safe to show again: one line, not absurdly long. */
function cleanEmail(typed: string): string {
  return typed.length <= 254 ? typed.replace(/[\x00-\x1f\x7f]/g, '') : '';
}
