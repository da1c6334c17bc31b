import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { HtmlValidate } from 'html-validate';
import { CookieJar, csrfFrom, signInAs, testPassword } from '../../../test/helpers/newsroom.ts';
import { newArticleRow } from '../articles/articles.fixtures.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { UserService } from './users.service.ts';

const password = testPassword;

describe('newsroom accounts over HTTP', () => {
  let site: TestSite;
  let users: UserService;
  let clock = new Date('2026-11-25T12:00:00Z');

  const request = async (
    jar: CookieJar,
    options: InjectOptions & { form?: Record<string, string> },
  ): Promise<LightMyRequestResponse> => {
    const { form, ...rest } = options;
    const response = await site.app.inject({
      ...rest,
      headers: {
        ...(rest.headers ?? {}),
        cookie: jar.header(),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    } as InjectOptions);
    jar.store(response);
    return response;
  };

  /** Opens the sign-in page (for its CSRF token), then posts the form. */
  const signIn = async (
    jar: CookieJar,
    email: string,
    secret: string,
    remoteAddress = '127.0.0.1',
  ): Promise<LightMyRequestResponse> => {
    const page = await request(jar, { method: 'GET', url: '/newsroom/sign-in', remoteAddress });
    const csrf = page.statusCode === 200 ? csrfFrom(page.body) : '';
    return request(jar, {
      method: 'POST',
      url: '/newsroom/sign-in',
      remoteAddress,
      form: { _csrf: csrf, email, password: secret },
    });
  };

  before(async () => {
    site = await createTestSite({ seed: false, now: () => clock });
    users = new UserService({ db: site.db, siteUrl: site.config.siteUrl, now: () => clock });
    await users.createUser({ email: 'Admin@Example.com', role: 'admin', name: 'Ada Admin', password });
    await users.createUser({ email: 'writer@example.com', role: 'contributor', name: 'Cy Writer', password });
  });
  after(() => site.close());

  it('sends a visitor who is not signed in to the sign-in page, which is never cached', async () => {
    const jar = new CookieJar();
    const dashboard = await request(jar, { method: 'GET', url: '/newsroom' });
    assert.equal(dashboard.statusCode, 303);
    assert.equal(dashboard.headers.location, '/newsroom/sign-in');
    const page = await request(jar, { method: 'GET', url: '/newsroom/sign-in' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(page.body, /<input id="password" name="password" type="password"/);
    assert.ok(jar.cookies.has('gz_csrf'));
    assert.match(jar.lastSetCookies[0] ?? '', /; Path=\/newsroom; HttpOnly; SameSite=Lax$/);
  });

  it('signs in with a password: a session cookie with the right flags, and the dashboard', async () => {
    const jar = new CookieJar();
    const response = await signIn(jar, 'admin@example.com', password);
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/newsroom');
    const cookie = jar.lastSetCookies.find((c) => c.startsWith('gz_session='));
    assert.ok(cookie);
    assert.match(cookie, /; Path=\/newsroom; HttpOnly; SameSite=Lax; Max-Age=1209600$/);
    assert.doesNotMatch(cookie, /Secure/); // SITE_URL is http here
    const dashboard = await request(jar, { method: 'GET', url: '/newsroom' });
    assert.equal(dashboard.statusCode, 200);
    assert.equal(dashboard.headers['cache-control'], 'no-store');
    assert.match(dashboard.body, /Signed in as <strong>Ada Admin<\/strong> \(Admin@example\.com\) \(admin\)/);
    // Only a hash of the cookie's token is stored.
    const token = jar.cookies.get('gz_session') ?? '';
    const stored = await site.db.selectFrom('sessions').select('id').execute();
    assert.ok(stored.length > 0 && stored.every((s) => s.id !== token && /^[0-9a-f]{64}$/.test(s.id)));
  });

  it('answers a wrong password and an unknown account with the same generic message', async () => {
    const wrong = await signIn(new CookieJar(), 'writer@example.com', 'not the password at all', '10.0.0.2');
    const unknown = await signIn(new CookieJar(), 'nobody@example.com', 'not the password at all', '10.0.0.2');
    for (const response of [wrong, unknown]) {
      assert.equal(response.statusCode, 401);
      assert.match(response.body, /The email or password is not right\./);
      assert.equal(String(response.headers['set-cookie'] ?? '').includes('gz_session'), false);
    }
    assert.equal(wrong.body.replace(/value="[^"]*"/g, ''), unknown.body.replace(/value="[^"]*"/g, ''));
  });

  it('throttles an account after 5 failures in 15 minutes, even for the right password, then lets it in again', async () => {
    await users.createUser({ email: 'target@example.com', role: 'author', password });
    for (let i = 0; i < 5; i++) {
      assert.equal(
        (await signIn(new CookieJar(), 'target@example.com', `wrong guess number ${i}`, `10.1.0.${i}`)).statusCode,
        401,
      );
    }
    const blocked = await signIn(new CookieJar(), 'TARGET@example.com', password, '10.1.1.1');
    assert.equal(blocked.statusCode, 429);
    assert.match(blocked.body, /Too many sign-in attempts/);
    const retryAfter = Number(blocked.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 900, `Retry-After ${retryAfter}`);
    // Another account from one of the same addresses is not affected.
    assert.equal((await signIn(new CookieJar(), 'writer@example.com', password, '10.1.0.1')).statusCode, 303);
    clock = new Date(clock.getTime() + 16 * 60 * 1000);
    assert.equal((await signIn(new CookieJar(), 'target@example.com', password, '10.1.1.1')).statusCode, 303);
  });

  it('throttles an IP after 20 failures, whichever accounts it tries', async () => {
    for (let i = 0; i < 20; i++) {
      assert.equal(
        (await signIn(new CookieJar(), `guess${i}@example.com`, 'wrong password here', '10.2.0.1')).statusCode,
        401,
      );
    }
    const blocked = await signIn(new CookieJar(), 'writer@example.com', password, '10.2.0.1');
    assert.equal(blocked.statusCode, 429);
    assert.ok(blocked.headers['retry-after']);
    assert.equal((await signIn(new CookieJar(), 'writer@example.com', password, '10.2.0.2')).statusCode, 303);
  });

  it('refuses a POST without a CSRF token, or with a forged or foreign one, with 403', async () => {
    const jar = new CookieJar();
    await request(jar, { method: 'GET', url: '/newsroom/sign-in' });
    const none = await request(jar, {
      method: 'POST',
      url: '/newsroom/sign-in',
      form: { email: 'admin@example.com', password },
    });
    assert.equal(none.statusCode, 403);
    assert.match(none.body, /did not come from this site/);
    const forged = await request(jar, {
      method: 'POST',
      url: '/newsroom/sign-in',
      form: { _csrf: 'A'.repeat(43), email: 'admin@example.com', password },
    });
    assert.equal(forged.statusCode, 403);
    // A token valid for another visitor's cookie is no use here.
    const other = new CookieJar();
    const otherToken = csrfFrom((await request(other, { method: 'GET', url: '/newsroom/sign-in' })).body);
    const foreign = await request(jar, {
      method: 'POST',
      url: '/newsroom/sign-in',
      form: { _csrf: otherToken, email: 'admin@example.com', password },
    });
    assert.equal(foreign.statusCode, 403);
    assert.equal(jar.cookies.has('gz_session'), false);

    // Signed in: sign-out without the token does nothing.
    const signedIn = new CookieJar();
    await signIn(signedIn, 'admin@example.com', password);
    const signOut = await request(signedIn, { method: 'POST', url: '/newsroom/sign-out', form: {} });
    assert.equal(signOut.statusCode, 403);
    for (const url of ['//newsroom/sign-out', '/newsroom/sign-out/', '/newsroom//sign-out-everywhere']) {
      assert.equal((await request(signedIn, { method: 'POST', url, form: {} })).statusCode, 403, url);
    }
    assert.equal((await request(signedIn, { method: 'GET', url: '/newsroom' })).statusCode, 200);
  });

  it('signs out here, and everywhere: a second browser loses its session too', async () => {
    const laptop = new CookieJar();
    const phone = new CookieJar();
    const tablet = new CookieJar();
    await signIn(laptop, 'writer@example.com', password);
    await signIn(phone, 'writer@example.com', password);
    await signIn(tablet, 'admin@example.com', password);
    const csrf = csrfFrom((await request(laptop, { method: 'GET', url: '/newsroom' })).body);
    const everywhere = await request(laptop, {
      method: 'POST',
      url: '/newsroom/sign-out-everywhere',
      form: { _csrf: csrf },
    });
    assert.equal(everywhere.statusCode, 303);
    assert.equal(everywhere.headers.location, '/newsroom/sign-in');
    assert.equal((await request(phone, { method: 'GET', url: '/newsroom' })).statusCode, 303);
    assert.equal((await request(laptop, { method: 'GET', url: '/newsroom' })).statusCode, 303);
    // Another user's session is untouched.
    const tabletPage = await request(tablet, { method: 'GET', url: '/newsroom' });
    assert.equal(tabletPage.statusCode, 200);
    // Plain sign-out ends this session only.
    const signOut = await request(tablet, {
      method: 'POST',
      url: '/newsroom/sign-out',
      form: { _csrf: csrfFrom(tabletPage.body) },
    });
    assert.equal(signOut.statusCode, 303);
    assert.equal(tablet.cookies.has('gz_session'), false);
  });

  it('checks roles on the server: the users page is for admins only', async () => {
    const writer = new CookieJar();
    await signIn(writer, 'writer@example.com', password);
    const dashboard = await request(writer, { method: 'GET', url: '/newsroom' });
    assert.doesNotMatch(dashboard.body, /href="\/newsroom\/users"/);
    const refused = await request(writer, { method: 'GET', url: '/newsroom/users' });
    assert.equal(refused.statusCode, 403);
    assert.match(refused.body, /Your role does not allow this/);
    assert.equal(refused.headers['cache-control'], 'no-store');

    const admin = new CookieJar();
    await signIn(admin, 'admin@example.com', password);
    assert.match((await request(admin, { method: 'GET', url: '/newsroom' })).body, /href="\/newsroom\/users"/);
    const list = await request(admin, { method: 'GET', url: '/newsroom/users' });
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /writer@example\.com<\/td><td>contributor/);
    assert.equal((await request(new CookieJar(), { method: 'GET', url: '/newsroom/users' })).statusCode, 303);
  });

  it('signs in once with a sign-in link; its GET only shows a button; used and expired links are refused', async () => {
    const { link } = await users.createUser({ email: 'newcomer@example.com', role: 'editor' });
    assert.ok(link);
    const url = new URL(link);
    assert.equal(url.origin + url.pathname, 'http://gazette.test/newsroom/sign-in/link');
    const path = url.pathname + url.search;
    const jar = new CookieJar();
    const scanned = await request(new CookieJar(), { method: 'GET', url: path });
    assert.equal(scanned.statusCode, 200);
    assert.equal(scanned.headers['referrer-policy'], 'no-referrer');
    const shown = await request(jar, { method: 'GET', url: path });
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /<button class="newsroom__button" type="submit">Sign in<\/button>/);
    const token = url.searchParams.get('token') ?? '';
    const used = await request(jar, {
      method: 'POST',
      url: '/newsroom/sign-in/link',
      form: { _csrf: csrfFrom(shown.body), token },
    });
    assert.equal(used.statusCode, 303);
    assert.match(
      (await request(jar, { method: 'GET', url: '/newsroom' })).body,
      /newcomer@example\.com<\/strong> \(editor\)/,
    );

    const again = new CookieJar();
    assert.equal((await request(again, { method: 'GET', url: path })).statusCode, 410);
    const csrf = csrfFrom((await request(again, { method: 'GET', url: '/newsroom/sign-in' })).body);
    const reuse = await request(again, { method: 'POST', url: '/newsroom/sign-in/link', form: { _csrf: csrf, token } });
    assert.equal(reuse.statusCode, 410);
    assert.match(reuse.body, /already been used/);

    const expiring = await users.issueSignInLink((await users.findByEmail('newcomer@example.com'))?.id ?? 0);
    clock = new Date(clock.getTime() + 25 * 60 * 60 * 1000);
    const expired = await request(new CookieJar(), {
      method: 'GET',
      url: new URL(expiring).pathname + new URL(expiring).search,
    });
    assert.equal(expired.statusCode, 410);
    assert.match(expired.body, /expired/);
    assert.equal(
      (await request(new CookieJar(), { method: 'GET', url: '/newsroom/sign-in/link?token=nonsense' })).statusCode,
      400,
    );
    assert.equal(
      (await request(new CookieJar(), { method: 'GET', url: `/newsroom/sign-in/link?token=${'x'.repeat(43)}` }))
        .statusCode,
      400,
    );
  });

  it('lets a user who came by link set a password, which ends their other sessions', async () => {
    const { link } = await users.createUser({ email: 'linked@example.com', role: 'author' });
    const url = new URL(link ?? '');
    const jar = new CookieJar();
    const shown = await request(jar, { method: 'GET', url: url.pathname + url.search });
    await request(jar, {
      method: 'POST',
      url: '/newsroom/sign-in/link',
      form: { _csrf: csrfFrom(shown.body), token: url.searchParams.get('token') ?? '' },
    });
    const other = new CookieJar();
    const otherLink = new URL(await users.issueSignInLink((await users.findByEmail('linked@example.com'))?.id ?? 0));
    const otherShown = await request(other, { method: 'GET', url: otherLink.pathname + otherLink.search });
    await request(other, {
      method: 'POST',
      url: '/newsroom/sign-in/link',
      form: { _csrf: csrfFrom(otherShown.body), token: otherLink.searchParams.get('token') ?? '' },
    });
    assert.equal((await request(other, { method: 'GET', url: '/newsroom' })).statusCode, 200);

    const dashboard = await request(jar, { method: 'GET', url: '/newsroom' });
    assert.match(dashboard.body, /Set a password/);
    const csrf = csrfFrom(dashboard.body);
    const short = await request(jar, {
      method: 'POST',
      url: '/newsroom/password',
      form: { _csrf: csrf, password: 'short', repeat: 'short' },
    });
    assert.equal(short.statusCode, 400);
    assert.match(short.body, /at least 12 characters/);
    const mismatch = await request(jar, {
      method: 'POST',
      url: '/newsroom/password',
      form: { _csrf: csrf, password: 'a good long password', repeat: 'a good long passw0rd' },
    });
    assert.equal(mismatch.statusCode, 400);
    assert.match(mismatch.body, /not the same/);
    const saved = await request(jar, {
      method: 'POST',
      url: '/newsroom/password',
      form: { _csrf: csrf, password: 'a good long password', repeat: 'a good long password' },
    });
    assert.equal(saved.statusCode, 303);
    assert.equal(saved.headers.location, '/newsroom?saved=password');
    assert.match(
      (await request(jar, { method: 'GET', url: '/newsroom?saved=password' })).body,
      /Your password is saved/,
    );
    assert.equal((await request(other, { method: 'GET', url: '/newsroom' })).statusCode, 303);
    assert.equal(
      (await signIn(new CookieJar(), 'linked@example.com', 'a good long password', '10.4.0.1')).statusCode,
      303,
    );
    // Without a session, the form is refused even with a valid visitor token.
    const visitor = new CookieJar();
    const visitorCsrf = csrfFrom((await request(visitor, { method: 'GET', url: '/newsroom/sign-in' })).body);
    assert.equal(
      (
        await request(visitor, {
          method: 'POST',
          url: '/newsroom/password',
          form: { _csrf: visitorCsrf, password: 'x'.repeat(12), repeat: 'x'.repeat(12) },
        })
      ).statusCode,
      401,
    );
  });

  it('asks for the current password before changing it, and throttles wrong guesses at it', async () => {
    await users.createUser({ email: 'changer@example.com', role: 'author', password });
    const jar = new CookieJar();
    assert.equal((await signIn(jar, 'changer@example.com', password, '10.6.0.1')).statusCode, 303);
    const dashboard = await request(jar, { method: 'GET', url: '/newsroom' });
    assert.match(
      dashboard.body,
      /<input id="current-password" name="current" type="password" autocomplete="current-password" required/,
    );
    const csrf = csrfFrom(dashboard.body);
    const change = (form: Record<string, string>) =>
      request(jar, {
        method: 'POST',
        url: '/newsroom/password',
        form: { _csrf: csrf, password: 'a brand new password', repeat: 'a brand new password', ...form },
      });
    const missing = await change({});
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /Your current password is not right/);
    assert.equal((await change({ current: 'not the password at all' })).statusCode, 400);
    assert.equal(
      (await signIn(new CookieJar(), 'changer@example.com', 'a brand new password', '10.6.0.2')).statusCode,
      401,
      'nothing changed',
    );
    assert.equal((await change({ current: password })).statusCode, 303);
    assert.equal(
      (await signIn(new CookieJar(), 'changer@example.com', 'a brand new password', '10.6.0.3')).statusCode,
      303,
    );
    // Guessing the current password through a borrowed session meets the sign-in throttle.
    const guesses = [];
    for (let i = 0; i < 6; i++) guesses.push((await change({ current: `guess number ${i} here` })).statusCode);
    assert.deepEqual(guesses, [400, 400, 400, 400, 400, 429]);
  });

  it('voids unused sign-in links when the user is disabled (enabling does not revive them) and when a password is set', async () => {
    await users.createUser({ email: 'keeper@example.com', role: 'admin', password });
    const adminJar = new CookieJar();
    assert.equal((await signIn(adminJar, 'keeper@example.com', password, '10.7.0.1')).statusCode, 303);
    const adminCsrf = csrfFrom((await request(adminJar, { method: 'GET', url: '/newsroom' })).body);
    const { user, link } = await users.createUser({ email: 'linkholder@example.com', role: 'author' });
    const linkPath = (url: string) => new URL(url).pathname + new URL(url).search;
    assert.equal((await request(new CookieJar(), { method: 'GET', url: linkPath(link ?? '') })).statusCode, 200);
    for (const action of ['disable', 'enable']) {
      assert.equal(
        (
          await request(adminJar, {
            method: 'POST',
            url: `/newsroom/users/${user.id}/${action}`,
            form: { _csrf: adminCsrf },
          })
        ).statusCode,
        303,
      );
    }
    const useLink = async (url: string) => {
      const jar = new CookieJar();
      const shown = await request(jar, { method: 'GET', url: linkPath(url) });
      if (shown.statusCode !== 200) return shown.statusCode;
      return (
        await request(jar, {
          method: 'POST',
          url: '/newsroom/sign-in/link',
          form: { _csrf: csrfFrom(shown.body), token: new URL(url).searchParams.get('token') ?? '' },
        })
      ).statusCode;
    };
    assert.equal(await useLink(link ?? ''), 400, 'the link from before the disable is void');

    const spare = await users.issueSignInLink(user.id);
    const jar = new CookieJar();
    const fresh = await users.issueSignInLink(user.id);
    const shown = await request(jar, { method: 'GET', url: linkPath(fresh) });
    assert.equal(
      (
        await request(jar, {
          method: 'POST',
          url: '/newsroom/sign-in/link',
          form: { _csrf: csrfFrom(shown.body), token: new URL(fresh).searchParams.get('token') ?? '' },
        })
      ).statusCode,
      303,
    );
    const csrf = csrfFrom((await request(jar, { method: 'GET', url: '/newsroom' })).body);
    assert.equal(
      (
        await request(jar, {
          method: 'POST',
          url: '/newsroom/password',
          form: { _csrf: csrf, password: 'my own good password', repeat: 'my own good password' },
        })
      ).statusCode,
      303,
    );
    assert.equal(await useLink(spare), 400, 'a link issued before the password was set is void');
  });

  it('renders valid, accessible HTML on every account page', async () => {
    const validator = new HtmlValidate({
      extends: ['html-validate:standard', 'html-validate:a11y', 'html-validate:document'],
      rules: { 'no-inline-style': 'error' },
    });
    const admin = new CookieJar();
    const pages = [(await request(new CookieJar(), { method: 'GET', url: '/newsroom/sign-in' })).body];
    pages.push((await signIn(new CookieJar(), 'admin@example.com', 'a wrong password!', '10.3.0.1')).body);
    const { link } = await users.createUser({ email: 'html@example.com', role: 'author' });
    pages.push(
      (
        await request(new CookieJar(), {
          method: 'GET',
          url: new URL(link ?? '').pathname + new URL(link ?? '').search,
        })
      ).body,
    );
    await signIn(admin, 'admin@example.com', password);
    pages.push(
      (await request(admin, { method: 'GET', url: '/newsroom' })).body,
      (await request(admin, { method: 'GET', url: '/newsroom/users' })).body,
    );
    for (const body of pages) {
      const report = await validator.validateString(body);
      const errors = report.results.flatMap((r) =>
        r.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId} (line ${m.line}): ${m.message}`),
      );
      assert.deepEqual(errors, []);
    }
  });

  it('refuses bad input: a huge body (413), CR/LF in the address (400), no cache, no stack trace', async () => {
    const jar = new CookieJar();
    const csrf = csrfFrom((await request(jar, { method: 'GET', url: '/newsroom/sign-in' })).body);
    const huge = await request(jar, {
      method: 'POST',
      url: '/newsroom/sign-in',
      form: { _csrf: csrf, email: 'a@example.com', password: 'x'.repeat(100_000) },
    });
    assert.equal(huge.statusCode, 413);
    const crlf = await request(jar, {
      method: 'POST',
      url: '/newsroom/sign-in',
      form: { _csrf: csrf, email: 'admin@example.com\r\nBcc: x@example.com', password },
    });
    assert.equal(crlf.statusCode, 400);
    assert.match(crlf.body, /Please enter your email address and your password/);
    assert.doesNotMatch(crlf.body, /\r\nBcc/);
    assert.equal(jar.cookies.has('gz_session'), false);
    const missing = await request(jar, { method: 'POST', url: '/newsroom/sign-in', form: { _csrf: csrf } });
    assert.equal(missing.statusCode, 400);
  });
});

describe('newsroom cookies on an https site', () => {
  it('adds Secure to the session and CSRF cookies', async () => {
    const site = await createTestSite({ seed: false, env: { SITE_URL: 'https://news.example' } });
    try {
      await new UserService({ db: site.db, siteUrl: site.config.siteUrl, now: () => new Date() }).createUser({
        email: 'a@example.com',
        role: 'admin',
        password,
      });
      const page = await site.app.inject({ method: 'GET', url: '/newsroom/sign-in' });
      const visitor = String(page.headers['set-cookie']);
      assert.match(visitor, /; Secure/);
      const response = await site.app.inject({
        method: 'POST',
        url: '/newsroom/sign-in',
        headers: { cookie: visitor.split(';')[0] ?? '', 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrfFrom(page.body), email: 'a@example.com', password }).toString(),
      });
      assert.equal(response.statusCode, 303);
      assert.match(
        String(response.headers['set-cookie']),
        /^gz_session=[A-Za-z0-9_-]{43}; Path=\/newsroom; HttpOnly; SameSite=Lax; Secure; Max-Age=1209600$/,
      );
    } finally {
      await site.close();
    }
  });
});

describe('the newsroom dashboard', () => {
  it('shows how many articles are drafts, scheduled, published and unpublished, each linking to its list', async () => {
    const site = await createTestSite();
    try {
      const at = new Date().toISOString();
      await site.db
        .insertInto('articles')
        .values(newArticleRow({ slug: 'a-draft', title: 'A draft', status: 'draft' }, at))
        .execute();
      const editor = await signInAs(site, 'editor');
      const page = await editor.request({ method: 'GET', url: '/newsroom' });
      const count = (status: string) =>
        new RegExp(`data-count="${status}"><a href="/newsroom/articles\\?status=${status}">(\\d+)</a>`).exec(
          page.body,
        )?.[1];
      assert.equal(count('draft'), '1');
      assert.equal(count('scheduled'), '0');
      assert.equal(count('published'), '5'); // the demo publication's
    } finally {
      await site.close();
    }
  });
});
