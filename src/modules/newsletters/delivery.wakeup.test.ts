import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { eventually } from '../../../test/helpers/eventually.ts';
import { type GazetteProcess, spawnGazette } from '../../../test/helpers/gazette-process.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { createMailTransport, type MailTransport } from '../mail/mail.transport.ts';
import { demoArticles } from '../seed/demo.content.ts';
import { seedDemoPublication } from '../seed/seed.service.ts';
import { emailHash as keyedEmailHash } from '../subscribers/subscribers.tokens.ts';
import { createDeliveryWorker, type DeliveryWorker } from './delivery.worker.ts';
import { insertSubscribers } from './newsletters.fixtures.ts';
import { createRecipientLinks, listIdFor } from './newsletters.links.ts';
import { deliveriesChannel, findIssue } from './newsletters.repository.ts';
import { createIssue, queueIssue } from './newsletters.service.ts';

const siteUrl = 'https://news.example.test';
const secret = 'k'.repeat(40);
const mailFrom = 'News <newsletter@news.example.test>';
const deps = { siteUrl, emailHash: (emailKey: string) => keyedEmailHash(secret, emailKey) };
const readers = 20;
/** The workers' poll: far longer than any wait below, so only a wake-up can explain a prompt send. */
const pollMs = 60_000;
/** How long a woken worker may take to send an issue to `readers` readers. */
const promptMs = 10_000;

/** How many connections to `db`'s database LISTEN on the deliveries' channel (one per running worker). */
async function listeners(db: TestDatabase['db']): Promise<number> {
  const result = await sql<{
    n: string;
  }>`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query = ${`LISTEN ${deliveriesChannel}`}`.execute(
    db,
  );
  return Number(result.rows[0]?.n);
}

/**
 * Queues an issue and waits, for less than the poll, until it is sent: twice, the second once the worker
 * is surely asleep (it finished the first), so that its first look at the queue cannot be what found it.
 */
async function queueTwiceAndSeeBothSent(db: TestDatabase['db'], smtp: TestSmtpServer): Promise<void> {
  for (const [i, article] of demoArticles.slice(0, 2).entries()) {
    smtp.reset();
    const issue = await createIssue(db, deps, { slugs: [article.slug] });
    const queuedAt = Date.now();
    assert.equal(await queueIssue(db, deps, issue.id), readers);
    await eventually(
      async () => (await findIssue(db, issue.id))?.status === 'sent',
      `issue ${i + 1} to be sent well before the ${pollMs / 1000} s poll`,
      promptMs,
    );
    assert.ok(Date.now() - queuedAt < promptMs);
    assert.equal(smtp.total(), readers);
    assert.deepEqual(smtp.duplicates(), []);
  }
}

describeEachDatabase('a queued issue wakes the delivery workers at once', (dialect) => {
  let t: TestDatabase;
  let smtp: TestSmtpServer;
  let transport: MailTransport;
  let worker: DeliveryWorker;
  let gazette: GazetteProcess | undefined;

  before(async () => {
    t = await createTestDatabase(dialect);
    await seedDemoPublication(t.db, { dataDir: t.dataDir });
    await insertSubscribers(t.db, readers, 'confirmed');
    smtp = await startTestSmtpServer();
    transport = await createMailTransport({
      mail: { smtpUrl: smtp.url, from: mailFrom, dkim: null, concurrency: 4, ratePerSecond: 0 },
      dataDir: t.dataDir,
    });
    worker = createDeliveryWorker({
      db: t.db,
      transport,
      links: createRecipientLinks({ siteUrl, mailFrom, secret }),
      emailHash: deps.emailHash,
      listId: listIdFor(siteUrl),
      messageIdDomain: 'news.example.test',
      secret,
      concurrency: 4,
      ratePerSecond: 0,
      options: { pollMs },
      listenUrl: dialect === 'postgres' ? t.url : undefined,
    });
  });
  after(async () => {
    await worker.stop();
    await gazette?.stop();
    transport.close();
    await smtp.close();
    await t.drop();
  });

  it(`sends it at once (SQLite: in-process; PostgreSQL: by NOTIFY), not at the next poll (${pollMs / 1000} s)`, async () => {
    worker.start();
    if (dialect === 'postgres') await eventually(async () => (await listeners(t.db)) === 1, 'the worker LISTENing');
    await queueTwiceAndSeeBothSent(t.db, smtp);
    await worker.stop();
    // Its LISTEN connection is closed with it.
    if (dialect === 'postgres')
      await eventually(async () => (await listeners(t.db)) === 0, 'the stopped worker to close its LISTEN connection');
  });

  if (dialect === 'postgres') {
    it(`a \`gazette worker\` in another process sends a newly queued issue at once, not at its next poll (DELIVERY_POLL_MS=${pollMs})`, async () => {
      gazette = spawnGazette(['worker'], {
        DATABASE_URL: t.url,
        DATA_DIR: t.dataDir,
        SMTP_URL: smtp.url,
        MAIL_FROM: mailFrom,
        SITE_URL: siteUrl,
        SECRET_KEY: secret,
        SEED_DEMO: 'false',
        DELIVERY_POLL_MS: String(pollMs),
      });
      await gazette.waitFor('Worker running');
      await eventually(async () => (await listeners(t.db)) === 1, 'the worker process LISTENing');
      await queueTwiceAndSeeBothSent(t.db, smtp);
      await gazette.stop();
      assert.equal((await gazette.exited).code, 0);
    });
  }
});
