import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, it } from 'node:test';
import { buildApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import type { Db } from '../../db/index.ts';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { eventually } from '../../../test/helpers/eventually.ts';
import { spawnGazette } from '../../../test/helpers/gazette-process.ts';
import { newArticleRow } from './articles.fixtures.ts';

const articles = 20;

async function scheduleArticle(db: Db, slug: string, at: Date): Promise<number> {
  const row = newArticleRow(
    {
      slug,
      title: `Scheduled ${slug}`,
      standfirst: 'Out at its time.',
      body_markdown: 'Text.',
      status: 'scheduled',
      scheduled_at: at.toISOString(),
    },
    new Date().toISOString(),
  );
  return (await db.insertInto('articles').values(row).returning('id').executeTakeFirstOrThrow()).id;
}

async function publishedRevisions(db: Db): Promise<Map<number, string[]>> {
  const rows = await db
    .selectFrom('article_revisions')
    .select(['article_id', 'created_by'])
    .where('event', '=', 'published')
    .execute();
  const byArticle = new Map<number, string[]>();
  for (const row of rows)
    byArticle.set(row.article_id, [...(byArticle.get(row.article_id) ?? []), row.created_by ?? '']);
  return byArticle;
}

/**
 * Two real `gazette worker` processes on one database race for the same due scheduled articles: each is
 * published exactly once (one `published` revision, naming the process that won), and after a restart
 * nothing is published again while an article that fell due meanwhile is.
 */
describeEachDatabase('scheduled-publisher with two worker processes', (dialect) => {
  let t: TestDatabase;
  const children: ChildProcess[] = [];

  before(async () => {
    t = await createTestDatabase(dialect);
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await t.drop();
  });

  const worker = () => {
    const env = {
      DATABASE_URL: t.url,
      DATA_DIR: t.dataDir,
      SITE_URL: 'https://news.example.test',
      SECRET_KEY: 'k'.repeat(40),
      SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
    };
    const run = spawnGazette(['worker'], env);
    children.push(run.child);
    return {
      child: run.child,
      exited: run.exited.then(({ code }) => code),
      running: run.waitFor('Worker running'),
      output: run.output,
    };
  };

  it('publishes each due article exactly once, and it appears on the site', async () => {
    // Both run before the articles fall due, so their rounds (on the same wall-clock instants) race for them.
    const [a, b] = [worker(), worker()];
    await Promise.all([a.running, b.running]);
    const ids: number[] = [];
    const due = new Date();
    for (let i = 0; i < articles; i++) ids.push(await scheduleArticle(t.db, `race-${i}`, due));
    const later = await scheduleArticle(t.db, 'not-yet', new Date(Date.now() + 3600_000));
    await eventually(async () => (await publishedRevisions(t.db)).size === articles, 'all published', 30_000, 100);
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);

    const revisions = await publishedRevisions(t.db);
    for (const id of ids)
      assert.equal(revisions.get(id)?.length, 1, `article ${id} has exactly one published revision`);
    const claims =
      (a.output().match(/published article/g) ?? []).length + (b.output().match(/published article/g) ?? []).length;
    assert.equal(claims, articles, 'the two processes together published each article once');
    console.log(
      `# ${dialect}: worker A published ${(a.output().match(/published article/g) ?? []).length}, worker B ${(b.output().match(/published article/g) ?? []).length}`,
    );
    const rows = await t.db
      .selectFrom('articles')
      .select(['id', 'status', 'published_at', 'scheduled_at'])
      .orderBy('id')
      .execute();
    for (const row of rows.filter((r) => ids.includes(r.id))) {
      assert.equal(row.status, 'published');
      assert.ok(row.published_at);
      assert.equal(row.scheduled_at, null);
    }
    assert.equal(rows.find((r) => r.id === later)?.status, 'scheduled', 'an article not yet due stays scheduled');

    const config = loadConfig({
      DATA_DIR: t.dataDir,
      DATABASE_URL: t.url,
      SITE_URL: 'https://news.example.test',
      SECRET_KEY: 'k'.repeat(40),
    });
    const { app } = await buildApp({ config, db: t.db });
    try {
      const page = await app.inject({ method: 'GET', url: '/articles/race-7' });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /Scheduled race-7/);
      assert.equal((await app.inject({ method: 'GET', url: '/articles/not-yet' })).statusCode, 404);
    } finally {
      await app.close();
    }
  });

  it('after a restart, publishes what fell due while no worker ran, and nothing twice', async () => {
    const id = await scheduleArticle(t.db, 'due-while-down', new Date(Date.now() - 1000));
    const c = worker();
    await c.running;
    await eventually(async () => (await publishedRevisions(t.db)).has(id), 'the article that fell due', 30_000, 100);
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
    const revisions = await publishedRevisions(t.db);
    assert.equal(revisions.size, articles + 1);
    for (const [articleId, by] of revisions) assert.equal(by.length, 1, `article ${articleId}: ${by.join(', ')}`);
    assert.match(revisions.get(id)?.[0] ?? '', new RegExp(`^scheduled-publisher \\(pid ${c.child.pid} on `));
  });
});
