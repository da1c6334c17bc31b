import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { createDb, type Db } from '../src/db/index.ts';
import { escapeHtml } from '../src/ui/html.ts';
import { createEmptyPostgresDatabase, describeEachDatabase } from './helpers/databases.ts';
import { type GazetteProcess, runGazette, spawnGazette } from './helpers/gazette-process.ts';
import { freePort } from './helpers/ports.ts';
import { eventually } from './helpers/eventually.ts';

/**
 * Upgrades: a data folder made by Gazette as it stood at commit 0068015 (migrations up to
 * 20261125190000_content_version; scripts/make-upgrade-fixture.sh made it with that commit's CLI: demo seed,
 * two form sign-ups, an import, a newsroom user, a queued issue) is started with today's code. After that
 * commit, three migrations with earlier timestamps landed, which is the upgrade most likely to break.
 */
const fixture = path.join(import.meta.dirname, 'fixtures', 'upgrade-20261125190000');
const migrationNames = (await readdir(path.join(import.meta.dirname, '..', 'src', 'db', 'migrations')))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

describeEachDatabase('today’s gazette serve on a data folder from an older Gazette', (dialect) => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let db: Db;
  let dropDatabase: (() => Promise<void>) | undefined;
  let server: GazetteProcess | undefined;
  let base: string;
  /** What the old code stored, read before today's code touches it. */
  let before_: {
    articles: { slug: string; title: string }[];
    subscribers: { email: string; status: string }[];
    consentEvents: number;
  };

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gazette-upgrade-'));
    if (dialect === 'sqlite') {
      await copyFile(path.join(fixture, 'gazette.sqlite'), path.join(dataDir, 'gazette.sqlite'));
      env = { DATA_DIR: dataDir };
    } else {
      const empty = await createEmptyPostgresDatabase();
      dropDatabase = empty.drop;
      const client = new pg.Client({ connectionString: empty.url });
      await client.connect();
      await client.query(await readFile(path.join(fixture, 'postgres.sql'), 'utf8'));
      await client.end();
      env = { DATA_DIR: dataDir, DATABASE_URL: empty.url };
    }
    db = createDb(
      dialect === 'sqlite'
        ? { kind: 'sqlite', file: path.join(dataDir, 'gazette.sqlite') }
        : { kind: 'postgres', url: env.DATABASE_URL! },
    ).db;
    before_ = {
      articles: await db
        .selectFrom('articles')
        .select(['slug', 'title'])
        .where('status', '=', 'published')
        .orderBy('slug')
        .execute(),
      subscribers: await db.selectFrom('subscribers').select(['email', 'status']).orderBy('id').execute(),
      consentEvents: (await db.selectFrom('consent_events').select('id').execute()).length,
    };
    const queued = await db.selectFrom('deliveries').select('id').where('status', '=', 'queued').execute();
    assert.ok(
      before_.articles.length >= 3 &&
        before_.subscribers.length === 5 &&
        before_.consentEvents === 5 &&
        queued.length === 2,
      'the fixture holds what the script put in it',
    );

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // The old SECRET_KEY, so that links signed then still verify; SEED_DEMO=false: everything served is the fixture's.
    server = spawnGazette(['serve'], {
      ...env,
      PORT: String(port),
      SITE_URL: base,
      SECRET_KEY: 'fixture-secret-key-fixture-secret-key',
      SEED_DEMO: 'false',
    });
    await server.waitFor('Gazette is serving');
  });
  after(async () => {
    await server?.stop();
    await db?.destroy();
    await dropDatabase?.();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs every newer migration (also the three with older timestamps) and is ready', async () => {
    const ran = (await db
      .selectFrom('kysely_migration' as never)
      .select('name' as never)
      .execute()) as { name: string }[];
    assert.deepEqual(ran.map((r) => r.name).sort(), migrationNames);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  it('serves every article the old code published', async () => {
    for (const article of before_.articles) {
      const response = await fetch(`${base}/articles/${article.slug}`);
      assert.equal(response.status, 200, article.slug);
      assert.ok((await response.text()).includes(escapeHtml(article.title)), article.slug);
    }
    const home = await (await fetch(`${base}/`)).text();
    assert.ok(before_.articles.some((a) => home.includes(`/articles/${a.slug}`)));
  });

  it('keeps every subscriber and consent event, exported by today’s CLI', async () => {
    const file = path.join(dataDir, 'export.csv');
    const run = await runGazette(['subscribers', 'export', file], env);
    assert.equal(run.code, 0, run.output);
    const lines = (await readFile(file, 'utf8')).trim().split('\n').slice(1);
    assert.deepEqual(
      lines.map((line) =>
        line
          .split(',')
          .slice(0, 3)
          .filter((_, i) => i !== 1)
          .join(','),
      ),
      before_.subscribers.map((s) => `${s.email},${s.status}`),
    );
    assert.equal((await db.selectFrom('consent_events').select('id').execute()).length, before_.consentEvents);
  });

  it('still knows the old newsroom user, and sends the issue the old code queued', async () => {
    const link = await runGazette(['user', 'link', 'editor@newsroom.example'], env);
    assert.equal(link.code, 0, link.output);
    assert.match(link.output, /\/newsroom\/sign-in\/link\?token=/);
    // Today's in-process worker delivers the old queue (to the outbox: no SMTP_URL).
    await eventually(
      async () =>
        (await db.selectFrom('newsletter_issues').select('status').executeTakeFirstOrThrow()).status === 'sent',
      'the old issue to be sent',
      20_000,
      50,
    );
    const outbox = await readdir(path.join(dataDir, 'outbox'));
    assert.equal(outbox.filter((f) => f.endsWith('.eml')).length, 2, 'one mail to each confirmed subscriber');
  });
});
