import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create, WriteEntry } from 'tar';
import { generateSubscribers } from '../bench/generate-subscribers.ts';
import { createDb, type Db } from '../src/db/index.ts';
import { demoArticles } from '../src/modules/seed/demo.content.ts';
import { type GazetteProcess, runGazette, spawnGazette } from './helpers/gazette-process.ts';
import { freePort } from './helpers/ports.ts';
import { startTestSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { eventually } from './helpers/eventually.ts';

const readers = 300;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function count(db: Db, table: 'articles' | 'subscribers' | 'consent_events' | 'media'): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** `gazette serve` on a SQLite DATA_DIR; its base URL. */
async function serve(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ url: string; server: GazetteProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawnGazette(['serve'], {
    DATA_DIR: dataDir,
    PORT: String(port),
    SITE_URL: url,
    SECRET_KEY: 'k'.repeat(40),
    ...env,
  });
  await server.waitFor('Gazette is serving');
  return { url, server };
}

describe('gazette backup and restore (SQLite)', () => {
  let work: string;
  let smtp: TestSmtpServer;
  const processes: GazetteProcess[] = [];
  const dbs: Db[] = [];

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'gazette-backup-'));
    smtp = await startTestSmtpServer();
  });
  after(async () => {
    for (const p of processes) await p.stop();
    for (const db of dbs) await db.destroy();
    await smtp?.close();
    await rm(work, { recursive: true, force: true });
  });

  it(`a backup taken in the middle of a newsletter send to ${readers} readers restores into a site with every article, subscriber, consent event and media file`, async (ctx) => {
    const original = path.join(work, 'original');
    const env = { SMTP_URL: smtp.url, MAIL_FROM: 'News <newsletter@news.example.test>', SEND_CONCURRENCY: '2' };
    const site = await serve(original, env);
    processes.push(site.server);
    const { db } = createDb({ kind: 'sqlite', file: path.join(original, 'gazette.sqlite') });
    dbs.push(db);

    // Readers who signed up through the form (consent events, confirmation mails) and an imported list.
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${site.url}/newsletter/subscribe`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: `form${i}@example.com`, consent: 'yes', source: '/' }),
      });
      assert.equal(response.status, 200);
    }
    await eventually(() => smtp.total() >= 5, 'the five confirmation mails', 30_000);
    await generateSubscribers(db, 'sqlite', readers);
    smtp.reset();
    // Slowed so that the send takes seconds: each message waits 50 ms for its 250, two at a time.
    smtp.faults.delayMs = 50;

    const queued = await runGazette(['newsletter', 'send', demoArticles[0]!.slug], { DATA_DIR: original, ...env });
    assert.equal(queued.code, 0, queued.output);
    await eventually(() => smtp.total() >= 10, 'the send to start', 30_000);
    const archive = path.join(work, 'site.tar.gz');
    const backup = await runGazette(['backup', archive], { DATA_DIR: original });
    const acceptedWhenDone = smtp.total();
    assert.equal(backup.code, 0, backup.output);
    assert.match(backup.output, /Backed up to .*site\.tar\.gz/);
    assert.match(backup.output, /Backing up media \|.*\| 100% \| (\d+)\/\1 files/, 'progress of the media folder');
    const again = await runGazette(['backup', archive], { DATA_DIR: original });
    assert.equal(again.code, 1);
    assert.match(again.output, /site\.tar\.gz already exists/);
    assert.ok(
      acceptedWhenDone < readers,
      `the backup finished before the send did (${acceptedWhenDone} of ${readers} accepted)`,
    );

    // Restored into an empty folder, and served (no worker: the restored queue is not ours to send).
    const restored = path.join(work, 'restored');
    const restore = await runGazette(['restore', archive], { DATA_DIR: restored });
    assert.equal(restore.code, 0, restore.output);
    const copy = await serve(restored, { WORKER: 'false', SEED_DEMO: 'false' });
    processes.push(copy.server);
    const { db: restoredDb } = createDb({ kind: 'sqlite', file: path.join(restored, 'gazette.sqlite') });
    dbs.push(restoredDb);

    // Articles: every published one is served by the restored site with the original's headline.
    const headline = async (base: string, slug: string) => {
      const response = await fetch(`${base}/articles/${slug}`);
      assert.equal(response.status, 200, `${base} /articles/${slug}`);
      return /class="article__headline"[^>]*>([^<]*)</.exec(await response.text())?.[1];
    };
    const published = await db.selectFrom('articles').select('slug').where('status', '=', 'published').execute();
    assert.ok(published.length >= demoArticles.length);
    for (const { slug } of published) {
      const expected = await headline(site.url, slug);
      assert.ok(expected);
      assert.equal(await headline(copy.url, slug), expected);
    }
    // Subscribers and their consent, as the CLI exports them: identical lists.
    const exportOf = async (dataDir: string) => {
      const file = path.join(work, `${path.basename(dataDir)}.csv`);
      const run = await runGazette(['subscribers', 'export', file], { DATA_DIR: dataDir });
      assert.equal(run.code, 0, run.output);
      return readFile(file, 'utf8');
    };
    const exported = await exportOf(restored);
    assert.equal(exported.trim().split('\n').length, readers + 5 + 1);
    assert.equal(exported, await exportOf(original));
    for (const table of ['articles', 'subscribers', 'consent_events', 'media'] as const) {
      assert.equal(await count(restoredDb, table), await count(db, table), table);
    }
    // Media: every stored file, fetched from the restored site, has the original's bytes.
    const files = await readdir(path.join(original, 'media'));
    assert.ok(files.length >= 5);
    for (const name of files) {
      const response = await fetch(`${copy.url}/media/${name}`);
      assert.equal(response.status, 200, name);
      assert.equal(
        sha256(new Uint8Array(await response.arrayBuffer())),
        sha256(await readFile(path.join(original, 'media', name))),
        name,
      );
    }
    // Taken mid-send: the copy holds the issue part-sent, consistent with itself.
    const deliveries = await restoredDb.selectFrom('deliveries').select(['status']).execute();
    const sent = deliveries.filter((d) => d.status === 'sent').length;
    assert.equal(deliveries.length, readers, 'one delivery per confirmed reader');
    assert.ok(sent > 0 && sent < deliveries.length, `part-sent in the backup: ${sent} of ${deliveries.length}`);
    ctx.diagnostic(
      `backup taken with ${sent} of ${deliveries.length} deliveries recorded sent; ${files.length} media files; ${published.length} articles`,
    );
  });

  it('restore refuses a DATA_DIR that is not empty, leaving it as it was', async () => {
    const archive = path.join(work, 'site.tar.gz');
    const busy = path.join(work, 'busy');
    await mkdir(busy, { recursive: true });
    await writeFile(path.join(busy, 'notes.txt'), 'mine');
    const run = await runGazette(['restore', archive], { DATA_DIR: busy });
    assert.equal(run.code, 1);
    assert.match(run.output, /DATA_DIR .*busy is not empty \(notes\.txt\)/);
    assert.deepEqual(await readdir(busy), ['notes.txt']);
  });

  it('restore refuses a file that is not a Gazette backup', async () => {
    const plain = path.join(work, 'plain.tar.gz');
    await create({ file: plain, gzip: true }, [
      new WriteEntry({ path: 'gazette.sqlite', mode: 0o644 }, 'not a database'),
    ]);
    const notTar = path.join(work, 'notes.tar.gz');
    await writeFile(notTar, 'just some text\n');
    for (const file of [plain, notTar]) {
      const target = path.join(work, `empty-${path.basename(file)}`);
      const run = await runGazette(['restore', file], { DATA_DIR: target });
      assert.equal(run.code, 1, run.output);
      assert.match(run.output, /is not a Gazette backup/);
      assert.equal(existsSync(path.join(target, 'gazette.sqlite')), false);
    }
  });

  it('restore refuses an archive with an entry outside its folder, and writes nothing', async () => {
    const evil = path.join(work, 'evil.tar.gz');
    const manifest = JSON.stringify({
      format: 'gazette-backup',
      version: 1,
      createdAt: new Date().toISOString(),
      database: 'sqlite',
      media: 'included',
      mediaFiles: 1,
    });
    await create({ file: evil, gzip: true, preservePaths: true }, [
      new WriteEntry({ path: 'gazette-backup.json', mode: 0o644 }, manifest),
      new WriteEntry({ path: 'gazette.sqlite', mode: 0o644 }, 'x'),
      new WriteEntry({ path: 'media/../../escaped.txt', mode: 0o644 }, 'escaped'),
    ]);
    const target = path.join(work, 'traversal', 'data');
    const run = await runGazette(['restore', evil], { DATA_DIR: target });
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /has an entry Gazette will not restore: "media\/\.\.\/\.\.\/escaped\.txt"/);
    assert.equal(existsSync(path.join(work, 'traversal', 'escaped.txt')), false);
    assert.equal(existsSync(path.join(work, 'escaped.txt')), false);
    assert.equal(existsSync(path.join(target, 'gazette.sqlite')), false);
  });

  it('backup on PostgreSQL prints the pg_dump command and exits non-zero', async () => {
    const file = path.join(work, 'pg.dump');
    const run = await runGazette(['backup', file], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/news',
      DATA_DIR: path.join(work, 'pg'),
    });
    assert.equal(run.code, 1);
    assert.ok(run.output.includes(`pg_dump --format=custom --no-owner --file=${file} "$DATABASE_URL"`), run.output);
    assert.equal(existsSync(file), false);
  });
});
