import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { SafeHtml } from '../../ui/html.ts';
import { AppError } from '../../errors.ts';
import { hasRole, sessionLifetimeMs, type UserService } from './users.service.ts';
import type { Role, UserRow } from './users.table.ts';
import { csrfToken, newToken, sameToken } from './users.tokens.ts';

/** The session cookie: its value is the session's token; the database keeps only the token's SHA-256. */
export const sessionCookie = 'gz_session';
/** Before sign-in, the random value the sign-in forms' CSRF tokens are bound to (double-submit, signed). */
export const visitorCookie = 'gz_csrf';
/** The form field (or `x-csrf-token` header, for scripts) that carries the CSRF token. */
import { csrfFieldName as csrfField } from '../../ui/newsroom-layout.ts';
export { csrfField };
const newsroomPath = '/newsroom';

export interface CurrentUser {
  user: UserRow;
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in newsroom user of this request, looked up once (see `NewsroomAuth.currentUser`). */
    newsroomUser?: Promise<CurrentUser | null>;
  }
}

export interface NewsroomAuth {
  /** The signed-in user of this request, or null. Read once per request. */
  currentUser(request: FastifyRequest): Promise<CurrentUser | null>;
  /**
   * A preHandler for newsroom routes: a visitor who is not signed in is sent to the sign-in page (a GET)
   * or refused with `auth.required` (anything else); a user below `minimum` gets `auth.forbidden`.
   */
  requireRole(minimum: Role): preHandlerAsyncHookHandler;
  /** The CSRF token for a form on this page, bound to the session, or, before sign-in, to the visitor cookie. */
  csrfTokenFor(request: FastifyRequest, reply: FastifyReply): Promise<string>;
  /**
   * Whether a state-changing request carries a valid CSRF token (form field `_csrf` or header
   * `x-csrf-token`), bound to its session or, before sign-in, to its visitor cookie.
   */
  hasValidCsrfToken(request: FastifyRequest): Promise<boolean>;
  /** Sets the session cookie after a sign-in. */
  setSessionCookie(reply: FastifyReply, token: string): void;
  clearSessionCookie(reply: FastifyReply): void;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    // The first cookie of a name wins: browsers send the most specific path first (RFC 6265 §5.4).
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

function appendSetCookie(reply: FastifyReply, cookie: string): void {
  const existing = reply.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.header('set-cookie', [...list, cookie]);
}

/**
 * Sessions, roles and CSRF for everything under /newsroom. `secure` (SITE_URL is https) adds the Secure
 * attribute. Cookies are HttpOnly (no script reads them), SameSite=Lax (not sent on cross-site POSTs) and
 * scoped to Path=/newsroom (the public site, cached and shared, never sees them).
 */
export function createNewsroomAuth(deps: { users: UserService; secret: string; secure: boolean }): NewsroomAuth {
  const { users, secret } = deps;
  const attributes = `Path=${newsroomPath}; HttpOnly; SameSite=Lax${deps.secure ? '; Secure' : ''}`;

  // Resolved once per request and kept on it (`request.newsroomUser`, decorated by the newsroom plugin).
  const currentUser = (request: FastifyRequest): Promise<CurrentUser | null> => {
    let found = request.newsroomUser;
    if (!found) {
      const token = parseCookies(request.headers.cookie).get(sessionCookie);
      found = token
        ? users.sessionFor(token).then((s) => (s ? { user: s.user, sessionId: s.session.id } : null))
        : Promise.resolve(null);
      request.newsroomUser = found;
    }
    return found;
  };

  return {
    currentUser,
    requireRole: (minimum) => async (request, reply) => {
      const current = await currentUser(request);
      if (!current) {
        if (request.method === 'GET' || request.method === 'HEAD') {
          await reply.header('cache-control', 'no-store').redirect(`${newsroomPath}/sign-in`, 303);
          return;
        }
        throw new AppError('auth.required');
      }
      if (!hasRole(current.user.role, minimum)) throw new AppError('auth.forbidden');
    },
    csrfTokenFor: async (request, reply) => {
      const current = await currentUser(request);
      if (current) return csrfToken(secret, `session:${current.sessionId}`);
      let visitor = parseCookies(request.headers.cookie).get(visitorCookie);
      if (!visitor || !/^[A-Za-z0-9_-]{43}$/.test(visitor)) {
        visitor = newToken();
        appendSetCookie(reply, `${visitorCookie}=${visitor}; ${attributes}`);
      }
      return csrfToken(secret, `visitor:${visitor}`);
    },
    hasValidCsrfToken: async (request) => {
      const body = request.body;
      const fromBody =
        body && typeof body === 'object' && csrfField in body
          ? (body as Record<string, unknown>)[csrfField]
          : undefined;
      const header = request.headers['x-csrf-token'];
      const sent = typeof fromBody === 'string' ? fromBody : typeof header === 'string' ? header : '';
      if (!sent) return false;
      const bindings: string[] = [];
      const current = await currentUser(request);
      if (current) bindings.push(`session:${current.sessionId}`);
      const visitor = parseCookies(request.headers.cookie).get(visitorCookie);
      if (visitor) bindings.push(`visitor:${visitor}`);
      return bindings.some((binding) => sameToken(sent, csrfToken(secret, binding)));
    },
    setSessionCookie: (reply, token) =>
      appendSetCookie(reply, `${sessionCookie}=${token}; ${attributes}; Max-Age=${sessionLifetimeMs / 1000}`),
    clearSessionCookie: (reply) => appendSetCookie(reply, `${sessionCookie}=; ${attributes}; Max-Age=0`),
  };
}

/** What a screen's template gets: the signed-in user and a CSRF token for its forms. */
export interface NewsroomPageContext {
  current: CurrentUser;
  csrf: string;
}

/**
 * Renders a screen in the newsroom's shell for the signed-in user of the request; routes have checked the
 * role first. The newsroom (src/newsroom) provides it; modules receive it with their routes' options.
 */
export type NewsroomPageRenderer = (
  request: FastifyRequest,
  reply: FastifyReply,
  meta: { title: string; path: string; scripts?: string[]; status?: number },
  main: (context: NewsroomPageContext) => SafeHtml,
) => Promise<FastifyReply>;
