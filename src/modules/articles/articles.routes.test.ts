import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { HtmlValidate } from 'html-validate';
import { clientFor, type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { getSiteSettings } from '../settings/settings.service.ts';
import { utcToZoned } from './articles.schema.ts';
import { createScheduledPublisher } from './articles.scheduler.ts';

/**
 * The article editor over HTTP, as each role sees it: the forms, the buttons, what a direct POST may do, and
 * what readers then get on the public site.
 */
describe('the article editor over HTTP', () => {
  let site: TestSite;
  let editor: NewsroomClient;
  let author: NewsroomClient;
  let contributor: NewsroomClient;
  /** Moves the site's clock (an "Updated" time needs ten minutes after publication). */
  let offsetMs = 0;
  let tagIds: number[];
  let authorIds: number[];

  const idFrom = (response: LightMyRequestResponse): number => {
    assert.equal(response.statusCode, 303, response.body.slice(0, 2000));
    const match = /^\/newsroom\/articles\/(\d+)\?saved=/.exec(String(response.headers.location));
    assert.ok(match?.[1], `redirected to the article: ${String(response.headers.location)}`);
    return Number(match[1]);
  };
  const article = (id: number) =>
    site.db.selectFrom('articles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const publicPage = (slug: string) => site.app.inject({ method: 'GET', url: `/articles/${slug}` });
  /** The fields of the form at its current revision, as a browser would post them again. */
  const formOf = async (client: NewsroomClient, id: number): Promise<Record<string, string | string[]>> => {
    const row = await article(id);
    const page = await client.request({ method: 'GET', url: `/newsroom/articles/${id}` });
    assert.equal(page.statusCode, 200);
    return {
      title: row.title,
      slug: row.slug,
      standfirst: row.standfirst,
      body: row.body_markdown,
      revision: String(row.revision),
      correction_note: row.correction_note ?? '',
    };
  };
  const autosave = (client: NewsroomClient, url: string, form: Record<string, string | string[]>) =>
    client.request({ method: 'POST', url, headers: { 'x-csrf-token': client.csrf, accept: 'application/json' }, form });

  before(async () => {
    site = await createTestSite({ now: () => new Date(Date.now() + offsetMs) });
    editor = await signInAs(site, 'editor');
    author = await signInAs(site, 'author');
    contributor = await signInAs(site, 'contributor');
    tagIds = (await site.db.selectFrom('tags').select('id').orderBy('id').execute()).map((t) => t.id);
    authorIds = (await site.db.selectFrom('authors').select('id').orderBy('id').execute()).map((a) => a.id);
  });
  after(() => site.close());

  it('creates a draft with tags and several authors in order, lists it, and makes the slug from the title', async () => {
    const list = await editor.request({ method: 'GET', url: '/newsroom/articles' });
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /<a class="newsroom__button editor-new" href="\/newsroom\/articles\/new">New article<\/a>/);
    const blank = await editor.request({ method: 'GET', url: '/newsroom/articles/new' });
    assert.equal(blank.statusCode, 200);
    assert.match(blank.body, /<label for="title">Title<\/label>/);

    const id = idFrom(
      await editor.post('/newsroom/articles', {
        title: 'Harbour council votes on the new ferry',
        standfirst: 'A late-night session settles a year-long argument.',
        body: 'The council **voted** 7 to 2.',
        tags: [String(tagIds[1]), String(tagIds[0])],
        authors: [String(authorIds[1]), String(authorIds[0]), ''],
        action: 'save',
      }),
    );
    const row = await article(id);
    assert.equal(row.slug, 'harbour-council-votes-on-the-new-ferry');
    assert.equal(row.status, 'draft');
    const page = await editor.request({ method: 'GET', url: `/newsroom/articles/${id}?saved=saved` });
    assert.match(page.body, /role="status">Saved\.<\/p>/);
    assert.match(page.body, /<strong>voted<\/strong>/, 'the preview shows the rendered body');
    // The byline order survives: author 1 is the second seeded author.
    assert.match(
      page.body,
      new RegExp(
        `id="author-1" name="authors"><option value="">—</option>[^]*?<option value="${authorIds[1]}" selected>`,
      ),
    );
    const drafts = await editor.request({ method: 'GET', url: '/newsroom/articles?status=draft' });
    assert.match(
      drafts.body,
      /Harbour council votes on the new ferry<\/a><\/td>\s*<td data-label="Status"><span class="editor-status editor-status--draft">Draft<\/span>/,
    );
    const published = await editor.request({ method: 'GET', url: '/newsroom/articles?status=published' });
    assert.doesNotMatch(published.body, /Harbour council votes/);

    // The same title again gets a numbered slug.
    const second = idFrom(
      await editor.post('/newsroom/articles', { title: 'Harbour council votes on the new ferry', action: 'save' }),
    );
    assert.equal((await article(second)).slug, 'harbour-council-votes-on-the-new-ferry-2');
  });

  it('refuses a slug already taken with a message next to the field, and gives back everything typed', async () => {
    const response = await editor.post('/newsroom/articles', {
      title: 'My own take on the meeting',
      slug: 'blinken-meets-herzog-ceasefire-push',
      body: 'A body I do not want to lose.',
      action: 'save',
    });
    assert.equal(response.statusCode, 409);
    assert.match(
      response.body,
      /<p class="editor-field__error" id="slug-error">Another article already uses this slug/,
    );
    assert.match(
      response.body,
      /id="slug" name="slug" type="text" maxlength="120" value="blinken-meets-herzog-ceasefire-push" aria-describedby="slug-hint slug-error" aria-invalid="true"/,
    );
    assert.match(response.body, /value="My own take on the meeting"/);
    assert.match(response.body, />A body I do not want to lose\.<\/textarea>/);
    assert.equal(
      await site.db
        .selectFrom('articles')
        .select('id')
        .where('title', '=', 'My own take on the meeting')
        .executeTakeFirst(),
      undefined,
    );
  });

  it('publishes; a changed slug of a published article redirects (301) from the old one', async () => {
    const id = idFrom(
      await editor.post('/newsroom/articles', {
        title: 'Ferry timetable published',
        body: 'Boats every hour.',
        action: 'publish',
      }),
    );
    assert.equal((await publicPage('ferry-timetable-published')).statusCode, 200);
    const form = await formOf(editor, id);
    idFrom(await editor.post(`/newsroom/articles/${id}`, { ...form, slug: 'ferry-timetable-out', action: 'save' }));
    const old = await publicPage('ferry-timetable-published');
    assert.equal(old.statusCode, 301);
    assert.equal(old.headers.location, '/articles/ferry-timetable-out');
    assert.equal((await publicPage('ferry-timetable-out')).statusCode, 200);
    // Another article cannot take the old address.
    const taken = await editor.post('/newsroom/articles', {
      title: 'Squatter',
      slug: 'ferry-timetable-published',
      action: 'save',
    });
    assert.equal(taken.statusCode, 409);
  });

  it('previews Markdown: JSON for editor.js, and the Preview button without JavaScript saves nothing', async () => {
    const json = await editor.request({
      method: 'POST',
      url: '/newsroom/articles/preview',
      headers: { 'x-csrf-token': editor.csrf, accept: 'application/json' },
      form: { body: '## Hello\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) and [y](https://example.com/)' },
    });
    assert.equal(json.statusCode, 200);
    const { html } = json.json<{ html: string }>();
    assert.match(html, /<h2>Hello<\/h2>/);
    assert.match(html, /<a href="https:\/\/example.com\/">y<\/a>/);
    assert.doesNotMatch(html, /<script|href="javascript:/i);

    const before = await site.db
      .selectFrom('articles')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const page = await editor.post('/newsroom/articles', {
      title: 'Preview only',
      body: 'Some *emphasis*',
      action: 'preview',
    });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<em>emphasis<\/em>/);
    assert.match(page.body, /nothing is saved yet/);
    const afterCount = await site.db
      .selectFrom('articles')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(afterCount.n), Number(before.n));
  });

  it('autosaves (creating the draft on the first one) and refuses a stale autosave with 409', async () => {
    const first = await autosave(author, '/newsroom/articles/autosave', {
      title: 'Autosaved piece',
      body: 'First words',
    });
    assert.equal(first.statusCode, 200, first.body);
    const saved = first.json<{ id: number; revision: number; autosaveUrl: string; savedAt: string }>();
    assert.equal(saved.revision, 1);
    const second = await autosave(author, saved.autosaveUrl, {
      title: 'Autosaved piece',
      slug: '',
      body: 'First words, then more',
      revision: '1',
    });
    assert.equal(second.statusCode, 200, second.body);
    assert.equal(second.json<{ revision: number }>().revision, 2);
    // A second tab still at revision 1 must not overwrite revision 2.
    const stale = await autosave(author, saved.autosaveUrl, {
      title: 'Autosaved piece',
      body: 'Old tab text',
      revision: '1',
    });
    assert.equal(stale.statusCode, 409);
    assert.match(
      stale.json<{ error: { message: string } }>().error.message,
      /Someone saved this article after you opened it/,
    );
    assert.equal((await article(saved.id)).body_markdown, 'First words, then more');
    // The same via the form: the typed text comes back, with the message.
    const staleForm = await author.post(`/newsroom/articles/${saved.id}`, {
      title: 'Autosaved piece',
      body: 'Form in the old tab',
      revision: '1',
      action: 'save',
    });
    assert.equal(staleForm.statusCode, 409);
    assert.match(staleForm.body, />Form in the old tab<\/textarea>/);
    assert.match(staleForm.body, /role="alert"[^]*Someone saved this article/);
    // Autosaves by one person within minutes fold into one revision.
    const revisions = await site.db
      .selectFrom('article_revisions')
      .select(['event', 'revision'])
      .where('article_id', '=', saved.id)
      .execute();
    assert.deepEqual(
      revisions.map((r) => r.event),
      ['autosaved'],
    );
  });

  it('a contributor writes drafts but sees no publish button, and a direct publish or schedule POST is refused (403)', async () => {
    const page = await contributor.request({ method: 'GET', url: '/newsroom/articles/new' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /value="save">Save draft<\/button>/);
    assert.doesNotMatch(page.body, /value="publish"|value="schedule"|value="unpublish"/);
    const id = idFrom(
      await contributor.post('/newsroom/articles', {
        title: 'A contributor’s draft',
        body: 'Draft text',
        action: 'save',
      }),
    );
    assert.equal((await article(id)).created_by_user_id !== null, true);
    for (const action of ['publish', 'schedule']) {
      const form = await formOf(contributor, id);
      const refused = await contributor.post(`/newsroom/articles/${id}`, {
        ...form,
        scheduled_at: '2099-01-01T10:00',
        action,
      });
      assert.equal(refused.statusCode, 403, action);
      assert.match(refused.body, /not publish, schedule or unpublish/);
    }
    assert.equal((await article(id)).status, 'draft');
    const refusedNew = await contributor.post('/newsroom/articles', { title: 'Straight to print', action: 'publish' });
    assert.equal(refusedNew.statusCode, 403);
    // Once an editor publishes it, the contributor may no longer change it.
    idFrom(await editor.post(`/newsroom/articles/${id}`, { ...(await formOf(editor, id)), action: 'publish' }));
    const locked = await contributor.request({ method: 'GET', url: `/newsroom/articles/${id}` });
    assert.equal(locked.statusCode, 403);
  });

  it("an author publishes their own article but cannot open or change someone else's; an editor can", async () => {
    const own = idFrom(
      await author.post('/newsroom/articles', { title: 'Author’s own piece', body: 'Mine', action: 'publish' }),
    );
    assert.equal((await article(own)).status, 'published');
    const editors = idFrom(
      await editor.post('/newsroom/articles', { title: 'Editor’s piece', body: 'Theirs', action: 'save' }),
    );
    const list = await author.request({ method: 'GET', url: '/newsroom/articles' });
    assert.match(list.body, new RegExp(`<a href="/newsroom/articles/${own}">Author’s own piece</a>`));
    assert.match(list.body, /<td class="editor-list__title">Editor’s piece<\/td>/, 'listed, but not as a link');
    const view = await author.request({ method: 'GET', url: `/newsroom/articles/${editors}` });
    assert.equal(view.statusCode, 403);
    const change = await author.post(`/newsroom/articles/${editors}`, {
      title: 'Hijacked',
      revision: '1',
      action: 'save',
    });
    assert.equal(change.statusCode, 403);
    assert.equal((await article(editors)).title, 'Editor’s piece');
    const edited = await editor.post(`/newsroom/articles/${own}`, {
      ...(await formOf(editor, own)),
      title: 'Author’s own piece, edited',
      action: 'save',
    });
    idFrom(edited);
    assert.equal((await article(own)).title, 'Author’s own piece, edited');
  });

  it('refuses a POST without a CSRF token (403) and changes nothing', async () => {
    const response = await editor.request({
      method: 'POST',
      url: '/newsroom/articles',
      form: { title: 'Forged', action: 'publish' },
    });
    assert.equal(response.statusCode, 403);
    const json = await editor.request({
      method: 'POST',
      url: '/newsroom/articles/autosave',
      headers: { accept: 'application/json' },
      form: { title: 'Forged' },
    });
    assert.equal(json.statusCode, 403);
    assert.equal(
      await site.db.selectFrom('articles').select('id').where('title', '=', 'Forged').executeTakeFirst(),
      undefined,
    );
    const anonymous = await clientFor(site).request({ method: 'GET', url: '/newsroom/articles' });
    assert.equal(anonymous.statusCode, 303);
  });

  it('keeps every save as a revision, shows an escaped diff with insertions and deletions marked, and restores', async () => {
    const id = idFrom(
      await editor.post('/newsroom/articles', {
        title: 'Diff me',
        body: 'The mayor said <b>yes</b> on Monday.',
        action: 'save',
      }),
    );
    idFrom(
      await editor.post(`/newsroom/articles/${id}`, {
        ...(await formOf(editor, id)),
        body: 'The mayor said no on Tuesday.',
        action: 'save',
      }),
    );
    const history = await editor.request({ method: 'GET', url: `/newsroom/articles/${id}/revisions` });
    assert.equal(history.statusCode, 200);
    const revisionIds = [...history.body.matchAll(/revisions\/(\d+)\/restore/g)].map((m) => Number(m[1]));
    const all = await site.db
      .selectFrom('article_revisions')
      .select(['id', 'body_markdown'])
      .where('article_id', '=', id)
      .orderBy('id')
      .execute();
    assert.equal(all.length, 2);
    const [oldest, newest] = all;
    assert.ok(oldest && newest);
    assert.deepEqual(revisionIds, [oldest.id]);

    const diff = await editor.request({
      method: 'GET',
      url: `/newsroom/articles/${id}/revisions/diff?from=${oldest.id}&to=${newest.id}`,
    });
    assert.equal(diff.statusCode, 200);
    assert.match(
      diff.body,
      /<del><span class="visually-hidden">\[deleted: <\/span>&lt;b&gt;yes&lt;\/b&gt;<span class="visually-hidden">\]<\/span><\/del>/,
    );
    assert.match(
      diff.body,
      /<ins><span class="visually-hidden">\[inserted: <\/span>no<span class="visually-hidden">\]<\/span><\/ins>/,
    );
    assert.match(diff.body, /Unchanged: Title/);

    const restored = await editor.post(`/newsroom/articles/${id}/revisions/${oldest.id}/restore`, {});
    assert.equal(restored.statusCode, 303);
    assert.equal((await article(id)).body_markdown, 'The mayor said <b>yes</b> on Monday.');
    const events = await site.db
      .selectFrom('article_revisions')
      .select('event')
      .where('article_id', '=', id)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      events.map((e) => e.event),
      ['saved', 'saved', 'restored'],
    );
    const missing = await editor.request({
      method: 'GET',
      url: `/newsroom/articles/${id}/revisions/diff?from=${oldest.id}&to=999999`,
    });
    assert.equal(missing.statusCode, 404);
  });

  it('shows a correction on the article and in its JSON-LD, and an edit after publication shows "Updated"; the cached page changes at once', async () => {
    const id = idFrom(
      await editor.post('/newsroom/articles', {
        title: 'Budget passes',
        body: 'It passed by 12 votes.',
        action: 'publish',
      }),
    );
    const first = await publicPage('budget-passes');
    assert.equal(first.statusCode, 200);
    assert.doesNotMatch(first.body, /article__updated/);
    offsetMs += 60 * 60 * 1000;
    try {
      idFrom(
        await editor.post(`/newsroom/articles/${id}`, {
          ...(await formOf(editor, id)),
          body: 'It passed by 14 votes.',
          correction_note: 'An earlier version gave the margin as 12 votes; it was 14.',
          action: 'save',
        }),
      );
      const page = await publicPage('budget-passes');
      assert.match(page.body, /It passed by 14 votes\./, 'the page cache was emptied by the edit');
      assert.match(
        page.body,
        /<aside class="correction"[^>]*><h2 id="correction-heading">Correction<\/h2><p>An earlier version gave the margin as 12 votes; it was 14\.<\/p><\/aside>/,
      );
      assert.match(page.body, /<span class="article__updated">Updated <time/);
      const jsonLd = [...page.body.matchAll(/<script type="application\/ld\+json">([^]*?)<\/script>/g)]
        .map((m) => m[1] ?? '')
        .join('\n');
      assert.match(
        jsonLd,
        /"correction":\{"@type":"CorrectionComment","text":"An earlier version gave the margin as 12 votes; it was 14\."/,
      );
    } finally {
      offsetMs -= 60 * 60 * 1000;
    }
  });

  it('never lets script, unknown iframes, javascript: links or event attributes reach a reader', async () => {
    const body = [
      'Fine paragraph.',
      '<script>alert("x")</script>',
      '<iframe src="https://evil.example/embed"></iframe>',
      '[click me](javascript:alert(1))',
      '<a href="JaVaScRiPt:alert(2)">two</a>',
      '<img src="/media/x.png" onerror="alert(3)" alt="x">',
      '<p onclick="alert(4)" style="color:red">styled</p>',
      '<svg><script>alert(5)</script></svg>',
    ].join('\n\n');
    idFrom(await editor.post('/newsroom/articles', { title: 'Hostile markup', body, action: 'publish' }));
    const page = await publicPage('hostile-markup');
    assert.equal(page.statusCode, 200);
    const articleBody = /<div class="article__body[^"]*"[^>]*>([^]*?)<\/div>/.exec(page.body)?.[1] ?? page.body;
    assert.match(articleBody, /Fine paragraph\./);
    assert.doesNotMatch(page.body, /alert\(/);
    assert.doesNotMatch(page.body, /<iframe/i);
    assert.doesNotMatch(page.body, /javascript:/i);
    assert.doesNotMatch(articleBody, /\son[a-z]+=/i);
    assert.doesNotMatch(articleBody, /style=/i);
  });

  it('answers bad input with a 4xx and a message next to the field', async () => {
    const cases: [Record<string, string | string[]>, number, RegExp][] = [
      [{ title: '', body: 'x' }, 400, /id="title-error">Please give the article a title\./],
      [{ title: 'x'.repeat(201) }, 400, /id="title-error">The title can be at most 200 characters long\./],
      [
        { title: 'Ok', standfirst: 'y'.repeat(601) },
        400,
        /id="standfirst-error">The standfirst can be at most 600 characters long\./,
      ],
      [{ title: 'Ok', slug: 'Not A Slug!' }, 400, /id="slug-error">Use lowercase letters/],
      [{ title: 'Ok', tags: '999999' }, 400, /id="tags-error">A chosen tag does not exist/],
      [{ title: 'Ok', tags: 'drop table' }, 400, /id="tags-error">That is not a known tag\./],
      [{ title: 'Ok', authors: '999999' }, 400, /id="authors-error">A chosen author does not exist/],
      [
        { title: 'Ok', feature_image_id: '999999' },
        400,
        /id="feature_image_id-error">That image is not in the media library\./,
      ],
      [
        { title: 'Ok', scheduled_at: 'tomorrow', action: 'schedule' },
        400,
        /id="scheduled_at-error">Please give a date and time/,
      ],
      [
        { title: 'Ok', scheduled_at: '2026-02-30T10:00', action: 'schedule' },
        400,
        /id="scheduled_at-error">Please give the date and time to publish at\./,
      ],
      [
        { title: 'Ok', scheduled_at: '2001-01-01T10:00', action: 'schedule' },
        400,
        /id="scheduled_at-error">Please give a publication time in the future\./,
      ],
      [{ title: 'Ok', action: 'obliterate' }, 400, /Invalid option|expected one of/i],
      [{ title: 'Ok', new_tags: 'Brand new' }, 403, /Only editors can create new tags/],
    ];
    for (const [form, status, message] of cases) {
      const response = await author.post('/newsroom/articles', { action: 'save', ...form });
      assert.equal(response.statusCode, status, `${JSON.stringify(form).slice(0, 80)} → ${response.statusCode}`);
      assert.match(response.body, message, JSON.stringify(form).slice(0, 80));
      assert.doesNotMatch(response.body, /at [A-Za-z]+ \(|node_modules/, 'no stack trace');
    }
    const tooBig = await author.post('/newsroom/articles', { title: 'Big', body: 'z'.repeat(200_001), action: 'save' });
    assert.equal(tooBig.statusCode, 400);
    assert.match(tooBig.body, /The body can be at most 200,000 characters long\./);
    const notANumber = await author.request({ method: 'GET', url: '/newsroom/articles/abc' });
    assert.equal(notANumber.statusCode, 404);
  });

  it('lets an editor create tags from the form', async () => {
    const id = idFrom(
      await editor.post('/newsroom/articles', {
        title: 'Tagged fresh',
        new_tags: 'Harbour life, Ferries',
        action: 'publish',
      }),
    );
    const tags = await site.db
      .selectFrom('article_tags')
      .innerJoin('tags', 'tags.id', 'article_tags.tag_id')
      .select(['tags.slug', 'tags.name'])
      .where('article_tags.article_id', '=', id)
      .orderBy('position')
      .execute();
    assert.deepEqual(
      tags.map((t) => ({ ...t })),
      [
        { slug: 'harbour-life', name: 'Harbour life' },
        { slug: 'ferries', name: 'Ferries' },
      ],
    );
    assert.equal((await site.app.inject({ method: 'GET', url: '/tags/harbour-life' })).statusCode, 200);
  });

  it('schedules an article for later; the scheduled publisher publishes it once when due, and unpublishing takes it down', async () => {
    const later = new Date(Date.now() + 2 * 60 * 60 * 1000);
    // The form takes a wall-clock time in the publication's zone.
    later.setUTCSeconds(0, 0);
    const local = utcToZoned(later.toISOString(), (await getSiteSettings(site.db)).timeZone);
    const id = idFrom(
      await author.post('/newsroom/articles', {
        title: 'Scheduled story',
        body: 'Out later.',
        scheduled_at: local,
        action: 'schedule',
      }),
    );
    const row = await article(id);
    assert.equal(row.status, 'scheduled');
    assert.equal(row.scheduled_at, later.toISOString());
    const list = await author.request({ method: 'GET', url: '/newsroom/articles?status=scheduled' });
    assert.match(list.body, /Scheduled story/);
    assert.equal((await publicPage('scheduled-story')).statusCode, 404);

    // "Save" with a new time moves the schedule; a time in the past is refused.
    const moved = new Date(later.getTime() + 30 * 60 * 1000);
    const timeZone = (await getSiteSettings(site.db)).timeZone;
    idFrom(
      await author.post(`/newsroom/articles/${id}`, {
        ...(await formOf(author, id)),
        scheduled_at: utcToZoned(moved.toISOString(), timeZone),
        action: 'save',
      }),
    );
    assert.equal((await article(id)).scheduled_at, moved.toISOString());
    const past = await author.post(`/newsroom/articles/${id}`, {
      ...(await formOf(author, id)),
      scheduled_at: '2001-01-01T00:00',
      action: 'save',
    });
    assert.equal(past.statusCode, 400);
    assert.equal((await article(id)).scheduled_at, moved.toISOString());

    const log: string[] = [];
    let changed = 0;
    const publisher = createScheduledPublisher({
      db: site.db,
      now: () => new Date(moved.getTime() + 1000),
      contentChanged: () => Promise.resolve(void changed++),
      log: (l) => log.push(l),
    });
    assert.equal(await publisher.runOnce(), 1);
    assert.equal(await publisher.runOnce(), 0, 'published once');
    assert.equal(changed, 1);
    site.pages.invalidate();
    assert.equal((await publicPage('scheduled-story')).statusCode, 200);
    const events = await site.db
      .selectFrom('article_revisions')
      .select(['event', 'created_by'])
      .where('article_id', '=', id)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      events.map((e) => e.event),
      ['scheduled', 'scheduled', 'published'],
    );
    assert.match(events[2]?.created_by ?? '', /^scheduled-publisher \(pid \d+ on /);

    idFrom(await author.post(`/newsroom/articles/${id}`, { ...(await formOf(author, id)), action: 'unpublish' }));
    assert.equal((await publicPage('scheduled-story')).statusCode, 404);
  });

  it('renders valid, accessible HTML on every editor page (html-validate), including a refused form', async () => {
    const validator = new HtmlValidate({
      extends: ['html-validate:standard', 'html-validate:a11y', 'html-validate:document'],
      rules: { 'no-inline-style': 'error' },
    });
    const id = idFrom(
      await editor.post('/newsroom/articles', {
        title: 'Valid pages',
        body: 'One',
        tags: String(tagIds[0]),
        action: 'save',
      }),
    );
    idFrom(
      await editor.post(`/newsroom/articles/${id}`, { ...(await formOf(editor, id)), body: 'Two', action: 'save' }),
    );
    const [first, second] = await site.db
      .selectFrom('article_revisions')
      .select('id')
      .where('article_id', '=', id)
      .orderBy('id')
      .execute();
    const pages = [
      await editor.request({ method: 'GET', url: '/newsroom/articles' }),
      await editor.request({ method: 'GET', url: '/newsroom/articles/new' }),
      await editor.request({ method: 'GET', url: `/newsroom/articles/${id}` }),
      await editor.request({ method: 'GET', url: `/newsroom/articles/${id}/revisions` }),
      await editor.request({
        method: 'GET',
        url: `/newsroom/articles/${id}/revisions/diff?from=${first?.id}&to=${second?.id}`,
      }),
      await editor.post('/newsroom/articles', { title: '', slug: 'Bad Slug', action: 'save' }),
      await contributor.request({ method: 'GET', url: '/newsroom/articles/new' }),
    ];
    for (const page of pages) {
      const report = await validator.validateString(page.body);
      const errors = report.results.flatMap((r) =>
        r.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId} (line ${m.line}): ${m.message}`),
      );
      assert.deepEqual(errors, [], page.body.slice(0, 300));
    }
  });
});
