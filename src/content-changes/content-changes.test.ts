import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { buildApp, type App } from '../app.ts';
import { loadConfig } from '../config.ts';
import { createDb, type Db } from '../db/index.ts';
import { seedDemoPublication } from '../modules/seed/seed.service.ts';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../test/helpers/databases.ts';
import { type ContentChanges, createContentChanges } from './content-changes.ts';
import { eventually } from '../../test/helpers/eventually.ts';

const slug = 'blinken-meets-herzog-ceasefire-push';

/**
 * Two "processes" on one database, each with its own connection: a web process (its page cache, watching)
 * and another that makes a change (the editor in another web process, the scheduled publisher in a worker,
 * `gazette invalidate`). The change must reach the web process's cached page.
 */
describeEachDatabase('content changes across processes', (dialect) => {
  let t: TestDatabase;
  let otherDb: Db;
  let listenUrl = '';
  let web: App;
  let webChanges: ContentChanges;
  let other: ContentChanges;

  before(async () => {
    t = await createTestDatabase(dialect);
    await seedDemoPublication(t.db, { dataDir: t.dataDir });
    if (dialect === 'postgres') {
      const name = (await sql<{ name: string }>`SELECT current_database() AS name`.execute(t.db)).rows[0]!.name;
      const url = new URL(process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
      url.pathname = `/${name}`;
      listenUrl = url.toString();
      otherDb = createDb({ kind: 'postgres', url: listenUrl }).db;
    } else {
      otherDb = createDb({ kind: 'sqlite', file: path.join(t.dataDir, 'test.sqlite') }).db;
    }
    webChanges = createContentChanges({ db: t.db, dialect, watch: true, ...(listenUrl ? { listenUrl } : {}) });
    await webChanges.start();
    web = await buildApp({
      config: loadConfig({ DATA_DIR: t.dataDir, SITE_URL: 'http://gazette.test' }),
      db: t.db,
      contentChanges: webChanges,
    });
    other = createContentChanges({ db: otherDb, dialect });
    await other.start();
  });
  after(async () => {
    await web.app.close();
    await webChanges.stop();
    await other.stop();
    await otherDb.destroy();
    await t.drop();
  });

  const headline = async () => {
    const response = await web.app.inject({ url: `/articles/${slug}` });
    assert.equal(response.statusCode, 200);
    return /class="article__headline"[^>]*>([^<]*)</.exec(response.body)?.[1] ?? '';
  };

  /** Edits the headline as another process would: its own connection, then `contentChanged()`. */
  const editElsewhere = async (title: string) => {
    await otherDb.updateTable('articles').set({ title }).where('slug', '=', slug).execute();
    const started = Date.now();
    await other.contentChanged();
    return started;
  };

  const waitForHeadline = (title: string, withinMs: number) =>
    eventually(
      async () => (await headline()) === title,
      `the web process to show “${title}” within ${withinMs} ms`,
      withinMs,
      25,
    );

  it('an edit recorded by another process reaches this process’s cached page within a second or two', async (ctx) => {
    const original = await headline();
    await otherDb
      .updateTable('articles')
      .set({ title: 'Edited without telling anyone' })
      .where('slug', '=', slug)
      .execute();
    assert.equal(await headline(), original, 'the page is cached: an edit nobody announced is not seen');

    const started = await editElsewhere('Edited and announced');
    await waitForHeadline('Edited and announced', dialect === 'postgres' ? 1000 : 2500);
    ctx.diagnostic(`seen after ${Date.now() - started} ms`);
    assert.ok(webChanges.version >= other.version, 'the web process has seen the newest version');
  });

  it('the change is durable: a process that starts later reads the newest version', async () => {
    const late = createContentChanges({ db: otherDb, dialect });
    await late.start();
    assert.equal(late.version, other.version);
    assert.ok(late.version > 0);
    await late.stop();
  });

  if (dialect === 'postgres') {
    it('the LISTEN connection comes back after PostgreSQL drops it, and catches up on what it missed', async () => {
      const killed = await sql<{ n: number }>`
        SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN%'`.execute(otherDb);
      assert.equal(killed.rows[0]?.n, 1, 'one listener');
      // Changed while the listener is down or reconnecting: no NOTIFY reaches it; the read on reconnect does.
      await editElsewhere('Edited while the listener was away');
      await waitForHeadline('Edited while the listener was away', 3000);
      // And notifications flow again, once the listener has run LISTEN on its new connection.
      await eventually(
        async () => {
          const listening = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`.execute(
            otherDb,
          );
          return listening.rows[0]?.n === 1;
        },
        'the listener to LISTEN again',
        5000,
      );
      const started = await editElsewhere('Edited after the reconnection');
      await waitForHeadline('Edited after the reconnection', 1000);
      assert.ok(Date.now() - started < 1000);
    });
  }
});

it('without watching, a process still drops its own pages at once (tests, a single process)', async () => {
  const t = await createTestDatabase('sqlite');
  try {
    let calls = 0;
    const changes = createContentChanges({ db: t.db, dialect: 'sqlite', onChange: () => calls++ });
    await changes.start();
    const before = changes.version;
    await changes.contentChanged();
    assert.equal(calls, 1);
    assert.equal(changes.version, before + 1);
    await changes.stop();
  } finally {
    await t.drop();
  }
});
