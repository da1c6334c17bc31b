import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { legalContentHash } from './legal.service.ts';

describe('the newsroom legal documents screen', () => {
  let site: TestSite;
  let admin: NewsroomClient;
  let editor: NewsroomClient;

  before(async () => {
    site = await createTestSite();
    admin = await signInAs(site, 'admin');
    editor = await signInAs(site, 'editor');
  });
  after(() => site.close());

  const signUp = (email: string) =>
    site.app.inject({
      method: 'POST',
      url: '/newsletter/subscribe',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ source: '/', email, consent: 'yes', website: '' }).toString(),
    });

  it('publishes a new version of the Terms on save: the public page shows it at once and new sign-ups record it', async () => {
    const page = await admin.request({ method: 'GET', url: '/newsroom/legal' });
    assert.equal(page.statusCode, 200);
    const shown = /Current: <a href="\/terms">version (\d+)<\/a>/.exec(page.body);
    assert.ok(shown, 'the current version is shown');
    const before = Number(shown[1]);
    // The public page is rendered once and cached before the change.
    const cached = await site.app.inject({ method: 'GET', url: '/terms' });
    assert.equal(cached.statusCode, 200);
    assert.doesNotMatch(cached.body, /Readers may quote us/);

    const body = '## Use of this site\n\nReaders may quote us with a link.\n\n<script>alert(1)</script>';
    const saved = await admin.post('/newsroom/legal/terms', { title: 'Terms of use', body });
    assert.equal(saved.statusCode, 303);
    assert.equal(saved.headers.location, '/newsroom/legal?saved=terms');
    const after = await admin.request({ method: 'GET', url: '/newsroom/legal?saved=terms' });
    assert.match(after.body, new RegExp(`The Terms are published as version ${before + 1}\\.`));
    assert.match(
      after.body,
      new RegExp(`<a href="/terms\\?version=${before}">Version ${before}</a>`),
      'the history keeps the old version',
    );

    const publicPage = await site.app.inject({ method: 'GET', url: '/terms' });
    assert.match(publicPage.body, /Readers may quote us with a link\./);
    assert.match(publicPage.body, /Terms of use/);
    assert.doesNotMatch(publicPage.body, /<script>alert/);
    const old = await site.app.inject({ method: 'GET', url: `/terms?version=${before}` });
    assert.equal(old.statusCode, 200);
    assert.doesNotMatch(old.body, /Readers may quote us/);

    assert.equal((await signUp('new.reader@example.org')).statusCode < 400, true);
    const subscriber = await site.db
      .selectFrom('subscribers')
      .select('id')
      .where('email_key', '=', 'new.reader@example.org')
      .executeTakeFirstOrThrow();
    const event = await site.db
      .selectFrom('consent_events')
      .selectAll()
      .where('subscriber_id', '=', subscriber.id)
      .where('kind', '=', 'signup')
      .executeTakeFirstOrThrow();
    assert.equal(event.terms_version, before + 1);
    assert.equal(event.terms_hash, legalContentHash('Terms of use', body));
  });

  it('publishes the Privacy policy the same way, independently of the Terms', async () => {
    const before =
      (
        await site.db
          .selectFrom('legal_documents')
          .select('version')
          .where('kind', '=', 'privacy')
          .orderBy('version', 'desc')
          .executeTakeFirst()
      )?.version ?? 0;
    const saved = await admin.post('/newsroom/legal/privacy', {
      title: 'Privacy policy',
      body: 'We keep your address and nothing else.\r\n\r\nAsk us to delete it.',
    });
    assert.equal(saved.statusCode, 303);
    assert.match(
      (await site.app.inject({ method: 'GET', url: '/privacy' })).body,
      /We keep your address and nothing else\./,
    );
    await signUp('second.reader@example.org');
    const event = await site.db
      .selectFrom('consent_events')
      .innerJoin('subscribers', 'subscribers.id', 'consent_events.subscriber_id')
      .select(['privacy_version', 'privacy_hash'])
      .where('subscribers.email_key', '=', 'second.reader@example.org')
      .executeTakeFirstOrThrow();
    assert.equal(event.privacy_version, before + 1);
    // Line endings are stored as the browser's CRLF turned into LF, and hashed as stored.
    assert.equal(
      event.privacy_hash,
      legalContentHash('Privacy policy', 'We keep your address and nothing else.\n\nAsk us to delete it.'),
    );
  });

  it('refuses an empty text or title, a multi-line title, and an unknown document, keeping what was typed', async () => {
    const count = async () => (await site.db.selectFrom('legal_documents').select('id').execute()).length;
    const before = await count();
    const empty = await admin.post('/newsroom/legal/terms', { title: 'Terms', body: '   ' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /role="alert" id="terms-error">The document needs a title/);
    const noTitle = await admin.post('/newsroom/legal/privacy', { title: '', body: 'Some text <b>kept</b>' });
    assert.equal(noTitle.statusCode, 400);
    assert.match(noTitle.body, /Some text &lt;b&gt;kept&lt;\/b&gt;<\/textarea>/);
    assert.equal((await admin.post('/newsroom/legal/terms', { title: 'Two\nlines', body: 'x' })).statusCode, 400);
    assert.equal((await admin.post('/newsroom/legal/cookies', { title: 'Cookies', body: 'x' })).statusCode, 404);
    assert.equal(await count(), before);
  });

  it('is for admins only: an editor gets 403 on GET and POST; a POST without CSRF is refused', async () => {
    assert.equal((await editor.request({ method: 'GET', url: '/newsroom/legal' })).statusCode, 403);
    assert.equal((await editor.post('/newsroom/legal/terms', { title: 'Mine', body: 'All yours.' })).statusCode, 403);
    const contributor = await signInAs(site, 'contributor');
    assert.equal((await contributor.request({ method: 'GET', url: '/newsroom/legal' })).statusCode, 403);
    assert.equal(
      (await contributor.post('/newsroom/legal/terms', { title: 'Mine', body: 'All yours.' })).statusCode,
      403,
    );
    const noCsrf = await admin.request({
      method: 'POST',
      url: '/newsroom/legal/terms',
      form: { title: 'Mine', body: 'All yours.' },
    });
    assert.equal(noCsrf.statusCode, 403);
    assert.doesNotMatch((await site.app.inject({ method: 'GET', url: '/terms' })).body, /All yours/);
  });
});
