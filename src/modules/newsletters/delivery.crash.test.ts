import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { eventually } from '../../../test/helpers/eventually.ts';
import { spawnGazette } from '../../../test/helpers/gazette-process.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { demoArticles } from '../seed/demo.content.ts';
import { seedDemoPublication } from '../seed/seed.service.ts';
import { insertSubscribers } from './newsletters.fixtures.ts';
import { countDeliveriesByStatus, findIssue } from './newsletters.repository.ts';

const concurrency = 8;
const readers = 2000;

/**
 * kill -9 of real `gazette` processes in the middle of a send to 2,000 subscribers, then a restart: every
 * reader is counted at the SMTP server, and counted once (or, for the messages the server accepted in the
 * instant before the kill, at most `concurrency` of them, twice: the documented window).
 */
describe('kill -9 in the middle of a send', () => {
  let t: TestDatabase;
  let smtp: TestSmtpServer;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  before(async () => {
    t = await createTestDatabase('sqlite');
    await seedDemoPublication(t.db, { dataDir: t.dataDir });
    await insertSubscribers(t.db, readers, 'confirmed');
    smtp = await startTestSmtpServer();
    env = {
      DATABASE_URL: t.url,
      DATA_DIR: t.dataDir,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'News <newsletter@news.example.test>',
      SITE_URL: 'https://news.example.test',
      SECRET_KEY: 'k'.repeat(40),
      SEND_CONCURRENCY: String(concurrency),
      SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
    };
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await smtp.close();
    await t.drop();
  });

  const gazette = (...args: string[]) => {
    const run = spawnGazette(args, env);
    children.push(run.child);
    return run;
  };

  const waitForSent = (issueId: number, ms = 30_000) =>
    eventually(
      async () => (await findIssue(t.db, issueId))?.status === 'sent',
      () => `issue ${issueId} to be sent`,
      ms,
      50,
    );

  const latestIssueId = async () =>
    (await t.db.selectFrom('newsletter_issues').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()).id;

  it('a worker killed while nothing is being accepted: restarted, every reader exactly once', async () => {
    smtp.reset();
    const queued = gazette('newsletter', 'send', demoArticles[0]!.slug);
    assert.equal((await queued.exited).code, 0, queued.output());
    assert.match(queued.output(), new RegExp(`queued to ${readers} confirmed subscribers`));
    const issueId = await latestIssueId();

    const first = gazette('worker');
    // At the 700th acceptance the server stops answering; once the worker has recorded what was accepted,
    // kill -9 it with messages in flight that the server will never accept.
    await new Promise<void>((resolve) => {
      smtp.onAccepted = (_to, total) => {
        if (total !== 700) return;
        smtp.freeze();
        resolve();
      };
    });
    smtp.onAccepted = undefined;
    await eventually(
      async () => (await countDeliveriesByStatus(t.db, issueId)).sent === 700,
      'the worker to record the 700 accepted messages',
      10_000,
    );
    first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    smtp.thaw();
    const counts = await countDeliveriesByStatus(t.db, issueId);
    assert.equal(counts.sent, 700, 'nothing more was recorded: the server held every reply');
    assert.ok(counts.sending > 0, 'the kill left claimed deliveries behind');

    const second = gazette('worker');
    await waitForSent(issueId);
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.output());
    assert.match(second.output(), /Returned \d+ deliveries claimed by stopped workers to the queue/);
    assert.equal(smtp.accepted.size, readers, 'nobody lost');
    assert.deepEqual(smtp.duplicates(), [], 'nobody twice');
    assert.equal(smtp.total(), readers);
  });

  it('`newsletter send --wait` killed at an acceptance: at most the messages in flight go twice', async (ctx) => {
    smtp.reset();
    const sender = gazette('newsletter', 'send', demoArticles[1]!.slug, '--wait');
    smtp.onAccepted = (_to, total) => {
      if (total === 900) sender.child.kill('SIGKILL'); // the instant after a 250 reply: the worst moment
    };
    assert.equal((await sender.exited).signal, 'SIGKILL');
    smtp.onAccepted = undefined;
    const issueId = await latestIssueId();
    const inFlightAtKill = new Set(
      (
        await t.db
          .selectFrom('deliveries')
          .select('email')
          .where('issue_id', '=', issueId)
          .where('status', '=', 'sending')
          .execute()
      ).map((r) => r.email),
    );

    const worker = gazette('worker');
    await waitForSent(issueId);
    worker.child.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.output());
    assert.equal(smtp.accepted.size, readers, 'nobody lost');
    const duplicates = smtp.duplicates();
    ctx.diagnostic(
      `${duplicates.length} duplicate(s) from the kill; ${inFlightAtKill.size} deliveries were claimed at the time`,
    );
    assert.ok(duplicates.length <= concurrency, `${duplicates.length} duplicates, at most ${concurrency}`);
    for (const d of duplicates) assert.ok(inFlightAtKill.has(d), `${d} was in flight when the process died`);
    const c = await countDeliveriesByStatus(t.db, issueId);
    assert.equal(c.sent, readers);
  });
});
