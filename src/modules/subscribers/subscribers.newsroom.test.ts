import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { multipart } from '../../../test/helpers/multipart.ts';
import { type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { buildApp } from '../../app.ts';
import { insertSubscribers } from '../newsletters/newsletters.fixtures.ts';
import { exportColumns } from './subscribers.csv.ts';
import { eventually } from '../../../test/helpers/eventually.ts';

/** A CSV's records as arrays of cells, header row included. */
const parseRows = (csv: string): string[][] => parse(csv);

/** Uploads a CSV through the import form as a browser would (multipart, with the session's CSRF token). */
async function upload(
  client: NewsroomClient,
  fields: Record<string, string>,
  file?: { name: string; type?: string; content: Buffer | string },
) {
  const body = multipart(
    { _csrf: client.csrf, ...fields },
    file ? { filename: file.name, contentType: file.type ?? 'text/csv', content: file.content } : undefined,
  );
  return client.request({
    method: 'POST',
    url: '/newsroom/subscribers/import',
    headers: { 'content-type': body.contentType },
    payload: body.payload,
  });
}

/** Follows an import to its end through the JSON the progress bar polls. */
async function waitForImport(
  client: NewsroomClient,
  location: string,
  ms = 60_000,
): Promise<{ status: string; percent: number; summary: { imported: number; bad: number; known: number } }> {
  return eventually(
    async () => {
      const response = await client.request({ method: 'GET', url: `${location}.json` });
      assert.equal(response.statusCode, 200);
      const progress = response.json<{
        status: string;
        percent: number;
        summary: { imported: number; bad: number; known: number };
      }>();
      return progress.status !== 'running' && progress;
    },
    `the import at ${location} to finish`,
    ms,
    50,
  );
}

describe('the newsroom subscriber screens', () => {
  let site: TestSite;
  let editor: NewsroomClient;
  let contributor: NewsroomClient;

  before(async () => {
    site = await createTestSite({ seed: false });
    editor = await signInAs(site, 'editor');
    contributor = await signInAs(site, 'contributor');
    await insertSubscribers(site.db, 3, 'confirmed', 'Reader');
    await insertSubscribers(site.db, 2, 'pending', 'waiting');
    await insertSubscribers(site.db, 1, 'unsubscribed', 'gone');
    await insertSubscribers(site.db, 1, 'confirmed', 'odd%_name');
  });
  after(() => site.close());

  const count = (body: string, status: string) =>
    Number(new RegExp(`data-status="${status}">([\\d,]+)<`).exec(body)?.[1]?.replace(/,/g, '') ?? NaN);
  const listed = (body: string) =>
    [...body.matchAll(/<a href="\/newsroom\/subscribers\/\d+">([^<]+)<\/a>/g)].map((m) => m[1] ?? '');

  it('lists subscribers with counts per status, a status filter and a case-insensitive address search', async () => {
    const all = await editor.request({ method: 'GET', url: '/newsroom/subscribers' });
    assert.equal(all.statusCode, 200);
    assert.equal(all.headers['cache-control'], 'no-store');
    assert.deepEqual(
      [
        count(all.body, 'all'),
        count(all.body, 'pending'),
        count(all.body, 'confirmed'),
        count(all.body, 'unsubscribed'),
      ],
      [7, 2, 4, 1],
    );
    assert.equal(listed(all.body).length, 7);

    const pending = await editor.request({ method: 'GET', url: '/newsroom/subscribers?status=pending' });
    assert.deepEqual(listed(pending.body).sort(), ['waiting0@example.test', 'waiting1@example.test']);

    const search = await editor.request({ method: 'GET', url: '/newsroom/subscribers?q=READER' });
    assert.deepEqual(listed(search.body).sort(), [
      'Reader0@example.test',
      'Reader1@example.test',
      'Reader2@example.test',
    ]);
    assert.deepEqual(
      [count(search.body, 'all'), count(search.body, 'confirmed'), count(search.body, 'pending')],
      [3, 3, 0],
      'counts follow the search',
    );

    const both = await editor.request({ method: 'GET', url: '/newsroom/subscribers?q=example&status=unsubscribed' });
    assert.deepEqual(listed(both.body), ['gone0@example.test']);
  });

  it('treats search text as text: LIKE wildcards and SQL are matched literally', async () => {
    const wildcard = await editor.request({
      method: 'GET',
      url: `/newsroom/subscribers?q=${encodeURIComponent('%_')}`,
    });
    assert.deepEqual(listed(wildcard.body), ['odd%_name0@example.test']);
    const injection = await editor.request({
      method: 'GET',
      url: `/newsroom/subscribers?q=${encodeURIComponent("' OR 1=1 --")}`,
    });
    assert.equal(injection.statusCode, 200);
    assert.deepEqual(listed(injection.body), []);
    assert.match(injection.body, /No subscribers match/);
    assert.equal(
      (await editor.request({ method: 'GET', url: '/newsroom/subscribers?status=everyone' })).statusCode,
      400,
    );
    assert.equal(
      (await editor.request({ method: 'GET', url: `/newsroom/subscribers?q=${'x'.repeat(300)}` })).statusCode,
      400,
    );
  });

  it('pages through a long list by keyset: every subscriber once, newest first', async () => {
    await insertSubscribers(site.db, 120, 'pending', 'paged');
    const seen: string[] = [];
    let url: string | undefined = '/newsroom/subscribers?q=paged';
    let pages = 0;
    while (url) {
      const response = await editor.request({ method: 'GET', url });
      seen.push(...listed(response.body));
      url = /<a rel="next" href="([^"]+)">/.exec(response.body)?.[1]?.replaceAll('&amp;', '&');
      pages++;
    }
    assert.equal(pages, 3);
    assert.equal(seen.length, 120);
    assert.equal(new Set(seen).size, 120);
    assert.equal(seen[0], 'paged119@example.test');
  });

  it('imports an uploaded CSV with its provenance in every consent event, and lists bad rows by line', async () => {
    const csv = [
      'email,name,status,consented_at',
      'ann@example.com,Ann,confirmed,2026-05-01',
      'not-an-address,Bob,,',
      'cy@example.com,Cy,,',
      'ann@example.com,Ann again,,',
      'dee@example.com,Dee,maybe,',
      'WAITING0@example.test,,,',
    ].join('\n');
    const response = await upload(
      editor,
      { source: 'Sign-up sheet at the May book fair, ticked box' },
      { name: 'fair.csv', content: csv },
    );
    assert.equal(response.statusCode, 303, response.body);
    const location = String(response.headers.location);
    assert.match(location, /^\/newsroom\/subscribers\/imports\/\d+$/);
    const progress = await waitForImport(editor, location);
    assert.equal(progress.status, 'done');
    assert.equal(progress.percent, 100);
    assert.deepEqual(
      { imported: progress.summary.imported, bad: progress.summary.bad, known: progress.summary.known },
      { imported: 2, bad: 3, known: 1 },
    );

    const page = await editor.request({ method: 'GET', url: location });
    assert.match(page.body, /<progress id="import-progress" max="100" value="100">/);
    assert.match(page.body, /<td>3<\/td><td>not a valid email address<\/td>/);
    assert.match(page.body, /<td>5<\/td><td>ann@example.com appears earlier in the file<\/td>/);
    assert.match(page.body, /<td>6<\/td><td>status: status must be/);

    const ann = await site.db
      .selectFrom('subscribers')
      .selectAll()
      .where('email_key', '=', 'ann@example.com')
      .executeTakeFirstOrThrow();
    assert.equal(ann.status, 'confirmed');
    const events = await site.db.selectFrom('consent_events').selectAll().where('subscriber_id', '=', ann.id).execute();
    assert.equal(events.length, 1);
    assert.equal(events[0]?.kind, 'imported');
    assert.equal(
      (JSON.parse(events[0]?.detail ?? '{}') as { source?: string }).source,
      'Sign-up sheet at the May book fair, ticked box',
    );

    // The detail page shows that record as stored.
    const detail = await editor.request({ method: 'GET', url: `/newsroom/subscribers/${ann.id}` });
    assert.equal(detail.statusCode, 200);
    assert.match(detail.body, /<dt>Provenance<\/dt><dd>Sign-up sheet at the May book fair, ticked box<\/dd>/);
    assert.match(detail.body, /<dt>File<\/dt><dd>fair.csv, line 2<\/dd>/);
    assert.equal((await editor.request({ method: 'GET', url: '/newsroom/subscribers/999999' })).statusCode, 404);
  });

  it('shows a sign-up consent record: versions, wording, page, time and IP as stored', async () => {
    const id = (
      await site.db
        .insertInto('subscribers')
        .values({
          email: 'form@example.com',
          email_key: 'form@example.com',
          name: null,
          status: 'pending',
          source: 'form',
          created_at: '2026-11-20T10:00:00.000Z',
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    await site.db
      .insertInto('consent_events')
      .values({
        subscriber_id: id,
        email_hash: 'h',
        kind: 'signup',
        terms_version: 3,
        terms_hash: 'a'.repeat(64),
        privacy_version: 2,
        privacy_hash: 'b'.repeat(64),
        form_wording: 'Yes, send me <the> newsletter',
        source_url: '/articles/x',
        ip: '203.0.113.0',
        user_agent: 'TestBrowser/1.0',
        created_at: '2026-11-20T10:00:00.000Z',
      })
      .execute();
    const detail = await editor.request({ method: 'GET', url: `/newsroom/subscribers/${id}` });
    assert.match(detail.body, /<a href="\/terms\?version=3">version 3<\/a> <code class="hash">a{64}<\/code>/);
    assert.match(detail.body, /<a href="\/privacy\?version=2">version 2<\/a>/);
    assert.match(detail.body, /Yes, send me &lt;the&gt; newsletter/);
    assert.match(detail.body, /<dd>203\.0\.113\.0<\/dd>/);
    assert.match(detail.body, /<time datetime="2026-11-20T10:00:00.000Z">/);
  });

  it('refuses an import without provenance, without a file, of a non-CSV file, or too large (413)', async () => {
    const noSource = await upload(editor, { source: '  ' }, { name: 'a.csv', content: 'email\na@example.com\n' });
    assert.equal(noSource.statusCode, 400);
    assert.match(noSource.body, /where the list came from/);
    const noFile = await upload(editor, { source: 'A list' });
    assert.equal(noFile.statusCode, 400);
    assert.match(noFile.body, /choose a CSV file/);
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64)]);
    const picture = await upload(editor, { source: 'A list' }, { name: 'list.csv', content: png });
    assert.equal(picture.statusCode, 415);
    assert.match(picture.body, /not a CSV file/);
    const noEmail = await upload(editor, { source: 'A list' }, { name: 'list.csv', content: 'name,phone\nAnn,123\n' });
    assert.equal(noEmail.statusCode, 415);
    const huge = await upload(
      editor,
      { source: 'A list' },
      { name: 'huge.csv', content: Buffer.alloc(33 * 1024 * 1024, 'a') },
    );
    assert.equal(huge.statusCode, 413);
    assert.doesNotMatch(huge.body, /at .*\.ts:\d+/);
    const form = await editor.request({
      method: 'POST',
      url: '/newsroom/subscribers/import',
      form: { _csrf: editor.csrf, source: 'x' },
    });
    assert.equal(form.statusCode, 400, 'a form without a file');
    const longField = await upload(
      editor,
      { source: 'x'.repeat(5000) },
      { name: 'a.csv', content: 'email\nlong@example.com\n' },
    );
    assert.equal(longField.statusCode, 400, 'a field over 4 KB');
    assert.match(longField.body, /could not be read/);
    assert.equal(
      Number(
        (
          await site.db
            .selectFrom('subscribers')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('email_key', '=', 'long@example.com')
            .executeTakeFirstOrThrow()
        ).n,
      ),
      0,
    );
  });

  it('exports every subscriber as CSV with the CLI columns, including an import’s provenance', async () => {
    const response = await editor.request({ method: 'GET', url: '/newsroom/subscribers/export.csv' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/csv/);
    assert.match(
      String(response.headers['content-disposition']),
      /^attachment; filename="subscribers-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const rows: Record<string, string>[] = parse(response.body, { columns: true });
    assert.deepEqual(Object.keys(rows[0] ?? {}), exportColumns);
    const total = await site.db
      .selectFrom('subscribers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(rows.length, Number(total.n));
    const ann = rows.find((r) => r.email === 'ann@example.com');
    assert.equal(ann?.consent_source, 'Sign-up sheet at the May book fair, ticked box');
    assert.equal(ann?.status, 'confirmed');
  });

  it('is for editors and up: a contributor gets 403 on every GET and POST; a POST without CSRF is refused', async () => {
    for (const url of [
      '/newsroom/subscribers',
      '/newsroom/subscribers/1',
      '/newsroom/subscribers/export.csv',
      '/newsroom/subscribers/imports/1',
    ]) {
      assert.equal((await contributor.request({ method: 'GET', url })).statusCode, 403, url);
    }
    const before = await site.db
      .selectFrom('subscribers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const refused = await upload(
      contributor,
      { source: 'x' },
      { name: 'a.csv', content: 'email\nsneaky@example.com\n' },
    );
    assert.equal(refused.statusCode, 403);
    const body = multipart(
      { source: 'x' },
      { filename: 'a.csv', contentType: 'text/csv', content: 'email\nsneaky@example.com\n' },
    );
    const noCsrf = await editor.request({
      method: 'POST',
      url: '/newsroom/subscribers/import',
      headers: { 'content-type': body.contentType },
      payload: body.payload,
    });
    assert.equal(noCsrf.statusCode, 403);
    assert.match(noCsrf.body, /did not come from this site/);
    const after = await site.db
      .selectFrom('subscribers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(after.n), Number(before.n));
    assert.equal(
      (await site.app.inject({ method: 'GET', url: '/newsroom/subscribers' })).statusCode,
      303,
      'signed out: to the sign-in page',
    );
  });
});

describe('imports are kept in the database', () => {
  let site: TestSite;
  before(async () => {
    site = await createTestSite({ seed: false });
  });
  after(() => site.close());

  it('an import is shown after a restart, and one whose process died is shown as interrupted with what it wrote', async () => {
    const editor = await signInAs(site, 'editor');
    const response = await upload(
      editor,
      { source: 'The spring fair' },
      { name: 'spring.csv', content: 'email,name\nkept@example.com,Kept\nnot-an-address,Bad\n' },
    );
    assert.equal(response.statusCode, 303, response.body);
    const location = String(response.headers.location);
    assert.equal((await waitForImport(editor, location)).status, 'done');

    // A restart: a new app (a new process's SubscriberImports) on the same database.
    const restarted = await buildApp({ config: site.config, db: site.db });
    try {
      const again = await signInAs({ ...site, app: restarted.app }, 'editor');
      const page = await again.request({ method: 'GET', url: location });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /Import of spring\.csv/);
      assert.match(page.body, /<span data-result="imported">1<\/span> imported/);
      assert.match(page.body, /<td>3<\/td><td>not a valid email address<\/td>/);

      // What a `kill -9` mid-import leaves: a running row whose process is gone, with the counts it wrote.
      const dead = spawn(process.execPath, ['-e', '']);
      await new Promise((resolve) => dead.once('exit', resolve));
      const at = new Date().toISOString();
      const crashed = await site.db
        .insertInto('subscriber_imports')
        .values({
          status: 'running',
          file_name: 'big.csv',
          source: 'x',
          started_by: 'editor@example.com',
          started_at: at,
          size: 1000,
          bytes_read: 500,
          rows: 500,
          summary: JSON.stringify({ imported: 500, confirmed: 0, known: 0, suppressed: 0, bad: 0 }),
          bad_rows: '[]',
          claimed_by: `${hostname()}:${dead.pid}:deadbeef`,
          heartbeat_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const interrupted = await again.request({
        method: 'GET',
        url: `/newsroom/subscribers/imports/${crashed.id}.json`,
      });
      assert.equal(interrupted.json<{ status: string }>().status, 'interrupted');
      const shown = await again.request({ method: 'GET', url: `/newsroom/subscribers/imports/${crashed.id}` });
      assert.match(shown.body, /The server stopped before this import finished/);
      assert.match(shown.body, /<span data-result="imported">500<\/span> imported/);
    } finally {
      await restarted.app.close();
    }
  });
});

describe('the newsroom export against formula injection', () => {
  let source: TestSite;
  let target: TestSite;
  after(async () => {
    await source?.close();
    await target?.close();
  });

  it('neutralises cells a spreadsheet would run, and the export imports back into another site unchanged', async () => {
    source = await createTestSite({ seed: false });
    target = await createTestSite({ seed: false });
    const sourceEditor = await signInAs(source, 'editor');
    const targetEditor = await signInAs(target, 'editor');
    const csv = [
      'email,name,status',
      '=eq@example.com,"=HYPERLINK(""http://evil.example"",""x"")",confirmed',
      '-dash@example.com,@SUM(A1),',
      'plain@example.com,+1 555 0100,unsubscribed',
    ].join('\n');
    const imported = await upload(
      sourceEditor,
      { source: '-Sheet from the fair' },
      { name: 'hostile.csv', content: csv },
    );
    assert.equal(imported.statusCode, 303, imported.body);
    assert.equal((await waitForImport(sourceEditor, String(imported.headers.location))).summary.imported, 3);

    const exported = await sourceEditor.request({ method: 'GET', url: '/newsroom/subscribers/export.csv' });
    assert.equal(exported.statusCode, 200);
    assert.match(exported.body, /^"'=eq@example\.com","'=HYPERLINK\(""http:\/\/evil\.example"",""x""\)",confirmed,/m);
    assert.match(exported.body, /,"'-Sheet from the fair",/);
    for (const record of parseRows(exported.body))
      for (const cell of record) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, cell);

    const back = await upload(
      targetEditor,
      { source: 'Moved from the old site' },
      { name: 'export.csv', content: exported.body },
    );
    assert.equal(back.statusCode, 303, back.body);
    assert.equal((await waitForImport(targetEditor, String(back.headers.location))).summary.imported, 3);
    const stored = (site: TestSite) =>
      site.db.selectFrom('subscribers').select(['email', 'name', 'status']).orderBy('email').execute();
    assert.deepEqual(await stored(target), await stored(source));
    assert.deepEqual(
      (await stored(target)).map((r) => r.name),
      ['@SUM(A1)', '=HYPERLINK("http://evil.example","x")', '+1 555 0100'],
    );
  });
});

describe('the newsroom subscriber screens at 100,000 subscribers', () => {
  let site: TestSite;
  let editor: NewsroomClient;
  before(async () => {
    site = await createTestSite({ seed: false });
    editor = await signInAs(site, 'editor');
  });
  after(() => site.close());

  it('imports 100,000 uploaded rows in the background with progress, then lists, searches and filters them quickly', async () => {
    const lines = ['email,name,status'];
    for (let i = 0; i < 100_000; i++) lines.push(`bulk${i}@example.org,Reader ${i},${i % 4 === 0 ? 'confirmed' : ''}`);
    const started = Date.now();
    const response = await upload(
      editor,
      { source: 'Old list, double opt-in in 2024' },
      { name: 'bulk.csv', content: lines.join('\n') },
    );
    assert.equal(response.statusCode, 303);
    assert.ok(Date.now() - started < 5_000, 'the upload is answered without waiting for the import');
    const location = String(response.headers.location);
    const percents = new Set<number>();
    // Polled as the progress bar polls it, noting each percentage shown on the way.
    const progress = await eventually(
      async () => {
        const now = (await editor.request({ method: 'GET', url: `${location}.json` })).json<{
          status: string;
          percent: number;
          summary: { imported: number } | null;
        }>();
        percents.add(now.percent);
        return now.status !== 'running' && now;
      },
      'the import of 100,000 rows to finish',
      120_000,
      100,
    );
    const importMs = Date.now() - started;
    assert.equal(progress.status, 'done');
    assert.equal(progress.summary?.imported, 100_000);
    assert.ok(percents.size >= 3, `progress moved: ${[...percents].join(', ')}`);

    const timings: Record<string, number> = {};
    for (const url of [
      '/newsroom/subscribers',
      '/newsroom/subscribers?q=bulk9999',
      '/newsroom/subscribers?status=confirmed',
      '/newsroom/subscribers?q=READER&status=pending',
    ]) {
      const t0 = performance.now();
      const page = await editor.request({ method: 'GET', url });
      timings[url] = Math.round(performance.now() - t0);
      assert.equal(page.statusCode, 200);
    }
    const first = await editor.request({ method: 'GET', url: '/newsroom/subscribers' });
    assert.match(first.body, /data-status="all">100,000</);
    assert.match(first.body, /data-status="confirmed">25,000</);
    const searched = await editor.request({ method: 'GET', url: '/newsroom/subscribers?q=bulk9999' });
    assert.equal(listed(searched.body).length, 11); // bulk9999 and bulk99990–bulk99999
    // Reported, not asserted: speed belongs to the benchmarks, and this machine may be loaded.
    console.log(
      `# imported 100,000 rows over HTTP in ${(importMs / 1000).toFixed(1)} s; list pages at 100k: ${JSON.stringify(timings)} ms`,
    );
  });

  const listed = (body: string) =>
    [...body.matchAll(/<a href="\/newsroom\/subscribers\/\d+">([^<]+)<\/a>/g)].map((m) => m[1] ?? '');
});
