import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { benchSubscriberEmail, generateArticles, generateSubscribers } from '../bench/generate.ts';
import { createBenchIssue } from '../bench/newsletter-data.ts';
import { queueIssue } from '../src/modules/newsletters/newsletters.service.ts';
import { searchArticles } from '../src/modules/search/search.service.ts';
import { getOrCreateSecretKey } from '../src/modules/settings/secret.ts';
import { emailHash as keyedEmailHash } from '../src/modules/subscribers/subscribers.tokens.ts';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from './helpers/databases.ts';

// The generator the benchmarks use: what it writes must be what the application reads.
describeEachDatabase('bench/generate.ts', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase(dialect);
  });
  after(() => t.drop());

  it('creates N articles across several transactions and batches, findable by search, every 50th a draft', async () => {
    const progress: number[] = [];
    await generateArticles(t.db, 1234, { batchSize: 100, transactionSize: 500, onProgress: (n) => progress.push(n) });
    assert.deepEqual(progress, [500, 1000, 1234]);
    const rows = await t.db.selectFrom('articles').select(['slug', 'status', 'title']).orderBy('id').execute();
    assert.equal(rows.length, 1234);
    assert.equal(new Set(rows.map((r) => r.slug)).size, 1234);
    assert.equal(rows.filter((r) => r.status === 'draft').length, Math.ceil(1234 / 50));
    // Filed under generated tags and authors, so archives have deep pages; a second run reuses them.
    const tagged = await t.db
      .selectFrom('article_tags')
      .select((eb) => eb.fn.count<number>('article_id').distinct().as('n'))
      .executeTakeFirstOrThrow();
    const bylined = await t.db
      .selectFrom('article_authors')
      .select((eb) => eb.fn.count<number>('article_id').distinct().as('n'))
      .executeTakeFirstOrThrow();
    assert.deepEqual([Number(tagged.n), Number(bylined.n)], [1234, 1234]);
    await generateArticles(t.db, 10, { firstNumber: 1234 });
    assert.equal((await t.db.selectFrom('tags').select('id').execute()).length, 24);
    assert.equal((await t.db.selectFrom('articles').select('id').execute()).length, 1244);
    // The search index follows the inserts: a generated article's own title finds it.
    const sample = rows[7];
    assert.ok(sample);
    const found = await searchArticles(t.db, sample.title);
    assert.ok(
      found.results.some((r) => r.article.slug === sample.slug),
      `${sample.title} → ${found.total} results`,
    );
  });

  it('creates N confirmed subscribers with consent records, and a newsletter queues one delivery to each', async () => {
    await generateSubscribers(t.db, 2500, { batchSize: 400, transactionSize: 1000 });
    await generateSubscribers(t.db, 10, { firstNumber: 2500 });
    const subscribers = await t.db.selectFrom('subscribers').select(['email', 'status']).execute();
    assert.equal(subscribers.length, 2510);
    assert.ok(subscribers.every((s) => s.status === 'confirmed'));
    assert.equal(new Set(subscribers.map((s) => s.email)).size, 2510);
    assert.ok(subscribers.some((s) => s.email === benchSubscriberEmail(2509)));
    const consent = await t.db.selectFrom('consent_events').select(['kind', 'subscriber_id', 'email_hash']).execute();
    assert.equal(consent.length, 2510);
    assert.ok(consent.every((e) => e.kind === 'imported' && e.subscriber_id !== null));
    const secret = await getOrCreateSecretKey(t.db, null);
    const emailHash = (emailKey: string) => keyedEmailHash(secret, emailKey);
    assert.ok(consent.some((e) => e.email_hash === emailHash(benchSubscriberEmail(0))));
    const issue = await createBenchIssue(t.db, 'https://news.example', 5_000);
    assert.equal(await queueIssue(t.db, { siteUrl: 'https://news.example', emailHash }, issue.id), 2510);
  });
});
