import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { UserService } from '../../src/modules/users/users.service.ts';
import type { Role } from '../../src/modules/users/users.table.ts';
import type { TestSite } from './site.ts';

/** The password every test user gets. */
export const testPassword = 'correct horse battery staple';

/** A browser's cookies for one visitor: what the server set, sent back on each request. */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  lastSetCookies: string[] = [];
  store(response: LightMyRequestResponse): void {
    const header = response.headers['set-cookie'];
    this.lastSetCookies = header === undefined ? [] : Array.isArray(header) ? header : [header];
    for (const line of this.lastSetCookies) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/Max-Age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The CSRF token of the first form on a page (or its `<meta name="csrf-token">`). */
export function csrfFrom(body: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(body) ?? /<meta name="csrf-token" content="([^"]+)"/.exec(body);
  assert.ok(match?.[1], 'the page has a CSRF token');
  return match[1];
}

export type NewsroomRequest = InjectOptions & { form?: Record<string, string | string[]> };

/** One signed-in newsroom user talking to a test site through `app.inject()`, with cookies kept. */
export interface NewsroomClient {
  jar: CookieJar;
  /** A CSRF token valid for this session (from the dashboard page). */
  csrf: string;
  /** Sends a request with this user's cookies; `form` posts URL-encoded fields (the CSRF token is not added). */
  request(options: NewsroomRequest): Promise<LightMyRequestResponse>;
  /** GETs a newsroom page and POSTs a form with the session's CSRF token added. */
  post(url: string, form: Record<string, string | string[]>): Promise<LightMyRequestResponse>;
}

function encodeForm(form: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form))
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  return params.toString();
}

/** Any client (signed in or not) for a site: cookies kept between requests. */
export function clientFor(site: Pick<TestSite, 'app'>, jar = new CookieJar()): Omit<NewsroomClient, 'csrf' | 'post'> {
  return {
    jar,
    request: async (options) => {
      const { form, ...rest } = options;
      const response = await site.app.inject({
        ...rest,
        headers: {
          ...(rest.headers ?? {}),
          cookie: jar.header(),
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(form ? { payload: encodeForm(form) } : {}),
      } as InjectOptions);
      jar.store(response);
      return response;
    },
  };
}

/**
 * Creates a user with `role` (unless one with that email exists) and signs them in through the real
 * sign-in form. Each call gets its own session.
 */
export async function signInAs(
  site: TestSite,
  role: Role,
  email = `${role}@example.com`,
  name = `Test ${role}`,
): Promise<NewsroomClient> {
  const users = new UserService({ db: site.db, siteUrl: site.config.siteUrl, now: () => new Date() });
  const existing = await site.db
    .selectFrom('users')
    .select('id')
    .where('email_key', '=', email.toLowerCase())
    .executeTakeFirst();
  if (!existing) await users.createUser({ email, role, name, password: testPassword });
  const client = clientFor(site);
  const page = await client.request({ method: 'GET', url: '/newsroom/sign-in' });
  const signIn = await client.request({
    method: 'POST',
    url: '/newsroom/sign-in',
    form: { _csrf: csrfFrom(page.body), email, password: testPassword },
  });
  assert.equal(signIn.statusCode, 303, `${email} signs in`);
  const dashboard = await client.request({ method: 'GET', url: '/newsroom' });
  assert.equal(dashboard.statusCode, 200);
  const csrf = csrfFrom(dashboard.body);
  return {
    ...client,
    csrf,
    post: (url, form) => client.request({ method: 'POST', url, form: { _csrf: csrf, ...form } }),
  };
}
