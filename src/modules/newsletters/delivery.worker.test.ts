import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { fillDisk, tmpfsDirectory } from '../../../test/helpers/tmpfs.ts';
import { createDb } from '../../db/index.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import type { Config } from '../../config.ts';
import { createMailTransport, type MailTransport } from '../mail/mail.transport.ts';
import { demoArticles } from '../seed/demo.content.ts';
import { seedDemoPublication } from '../seed/seed.service.ts';
import { emailHash as keyedEmailHash, verifySubscriberToken } from '../subscribers/subscribers.tokens.ts';
import { createDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from './delivery.worker.ts';
import { insertSubscribers } from './newsletters.fixtures.ts';
import { createRecipientLinks, listIdFor } from './newsletters.links.ts';
import { countDeliveriesByStatus, findIssue } from './newsletters.repository.ts';
import { createIssue, queueIssue } from './newsletters.service.ts';
import { eventually } from '../../../test/helpers/eventually.ts';

const siteUrl = 'https://news.example.test';
const secret = 's'.repeat(40);
const mailFrom = 'The Judean <newsletter@news.example.test>';
const concurrency = 4;
const fastOptions: Partial<DeliveryWorkerOptions> = {
  retryBaseMs: 20,
  pauseBaseMs: 50,
  pauseMaxMs: 200,
  pollMs: 20,
  leaseMs: 5_000,
  batchSize: 50,
};
const emailHash = (emailKey: string) => keyedEmailHash(secret, emailKey);
const deps = { siteUrl, emailHash };

function mailConfig(smtpUrl: string, dkim: Config['mail']['dkim'] = null): Pick<Config, 'mail' | 'dataDir'> {
  return { mail: { smtpUrl, from: mailFrom, dkim, concurrency, ratePerSecond: 0 }, dataDir: '/nonexistent' };
}

function worker(
  db: TestDatabase['db'],
  transport: MailTransport,
  options: Partial<DeliveryWorkerOptions> = {},
  log?: (line: string) => void,
  ratePerSecond = 0,
): DeliveryWorker {
  return createDeliveryWorker({
    db,
    transport,
    links: createRecipientLinks({ siteUrl, mailFrom, secret }),
    emailHash,
    listId: listIdFor(siteUrl),
    messageIdDomain: 'news.example.test',
    secret,
    concurrency,
    ratePerSecond,
    options: { ...fastOptions, ...options },
    ...(log ? { log } : {}),
  });
}

/** Runs workers until the issue is `sent` (or fails the test after `ms`). */
async function sendToEnd(
  db: TestDatabase['db'],
  issueId: number,
  workers: DeliveryWorker[],
  ms = 20_000,
): Promise<void> {
  for (const w of workers) w.start();
  try {
    await eventually(async () => (await findIssue(db, issueId))?.status === 'sent', `issue ${issueId} to be sent`, ms);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

describe('newsletter delivery through a real SMTP server', () => {
  let t: TestDatabase;
  let smtp: TestSmtpServer;
  let transport: MailTransport;
  const slug = demoArticles[0]!.slug;

  before(async () => {
    t = await createTestDatabase('sqlite');
    await seedDemoPublication(t.db, { dataDir: t.dataDir });
    smtp = await startTestSmtpServer({ keepRaw: true });
    transport = await createMailTransport(mailConfig(smtp.url), { socketTimeoutMs: 400, connectionTimeoutMs: 400 });
  });
  after(async () => {
    transport.close();
    await smtp.close();
    await t.drop();
  });
  beforeEach(async () => {
    smtp.reset();
    smtp.faults.permanent.clear();
    smtp.faults.temporary.clear();
    smtp.faults.hang.clear();
    smtp.faults.drop.clear();
    await t.db.deleteFrom('deliveries').execute();
    await t.db.deleteFrom('suppressions').execute();
    await t.db.deleteFrom('subscribers').execute();
  });

  it('mails confirmed subscribers only, with the RFC 8058 headers, both parts and a visible unsubscribe link', async () => {
    await insertSubscribers(t.db, 3, 'confirmed');
    await insertSubscribers(t.db, 2, 'pending', 'pending');
    await insertSubscribers(t.db, 2, 'unsubscribed', 'gone');
    await insertSubscribers(t.db, 1, 'confirmed', 'suppressed');
    await t.db
      .insertInto('suppressions')
      .values({
        email_hash: emailHash('suppressed0@example.test'),
        reason: 'erased',
        created_at: new Date().toISOString(),
      })
      .execute();

    const issue = await createIssue(t.db, deps, { slugs: [slug, demoArticles[1]!.slug] });
    assert.equal(issue.subject, demoArticles[0]!.title);
    assert.equal(await queueIssue(t.db, deps, issue.id), 3);
    assert.equal(await queueIssue(t.db, deps, issue.id), 3, 'queuing twice adds nobody twice');
    await sendToEnd(t.db, issue.id, [worker(t.db, transport)]);

    assert.deepEqual([...smtp.accepted.keys()].sort(), [
      'reader0@example.test',
      'reader1@example.test',
      'reader2@example.test',
    ]);
    assert.equal(smtp.total(), 3);
    const messageIds = new Set<string>();
    for (const { to, raw } of smtp.messages) {
      const mail = await simpleParser(raw);
      const subscriber = await t.db
        .selectFrom('subscribers')
        .select('id')
        .where('email', '=', to)
        .executeTakeFirstOrThrow();
      assert.equal(mail.subject, demoArticles[0]!.title);
      const head = raw
        .toString()
        .split('\r\n\r\n')[0]!
        .replace(/\r\n[ \t]+/g, ' ');
      assert.equal(
        head.match(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/gim)?.length,
        1,
        'RFC 8058 List-Unsubscribe-Post',
      );
      assert.equal(head.match(/^List-Unsubscribe:/gim)?.length, 1, 'one List-Unsubscribe field');
      const listUnsubscribe = /^List-Unsubscribe: (.*)$/im.exec(head)?.[1] ?? '';
      const url = /<(https:\/\/news\.example\.test\/newsletter\/unsubscribe\?token=([^>]+))>/.exec(listUnsubscribe);
      assert.ok(url, listUnsubscribe);
      assert.equal(
        verifySubscriberToken(secret, 'unsubscribe', decodeURIComponent(url[2]!)),
        subscriber.id,
        'the token names this reader',
      );
      assert.match(listUnsubscribe, /<mailto:newsletter@news\.example\.test\?subject=unsubscribe/);
      assert.match(head, /^List-Id: <newsletter\.news\.example\.test>$/im);
      assert.match(
        mail.messageId ?? '',
        new RegExp(`^<gazette\\.${issue.id}\\.\\d+\\.[A-Za-z0-9_-]{16}@news\\.example\\.test>$`),
      );
      messageIds.add(mail.messageId ?? '');
      assert.ok(
        mail.html && mail.html.includes(`href="${url[1]!.replaceAll('&', '&amp;')}"`),
        'visible unsubscribe link in the HTML',
      );
      assert.match(mail.html, /Manage your subscription/);
      assert.doesNotMatch(mail.html, /<script/i);
      assert.doesNotMatch(mail.html, /%%GAZETTE_/);
      assert.ok(mail.text?.includes(`Unsubscribe: ${url[1]}`), 'and in the text part');
      assert.ok(mail.text?.includes(`${siteUrl}/articles/${slug}`));
    }
    assert.equal(messageIds.size, 3, 'Message-IDs are unique');
    const counts = await countDeliveriesByStatus(t.db, issue.id);
    assert.deepEqual(
      counts,
      { queued: 0, sending: 0, sent: 3, failed: 0, skipped: 1 },
      'the suppressed address is skipped',
    );
  });

  it('retries 4xx, hung replies and dropped connections; fails 5xx without retrying; suppresses after three hard bounces', async () => {
    await insertSubscribers(t.db, 30, 'confirmed');
    smtp.faults.temporary.set('reader1@example.test', 2);
    smtp.faults.permanent.add('reader2@example.test');
    smtp.faults.hang.set('reader3@example.test', 1);
    smtp.faults.drop.set('reader4@example.test', 1);
    smtp.faults.drop.set('reader5@example.test', 2);
    for (let round = 1; round <= 3; round++) {
      const issue = await createIssue(t.db, deps, { slugs: [slug] });
      assert.equal(await queueIssue(t.db, deps, issue.id), 30);
      await sendToEnd(t.db, issue.id, [worker(t.db, transport)]);
      const counts = await countDeliveriesByStatus(t.db, issue.id);
      assert.deepEqual(counts, { queued: 0, sending: 0, sent: 29, failed: 1, skipped: 0 }, `round ${round}`);
      const failed = await t.db
        .selectFrom('deliveries')
        .selectAll()
        .where('issue_id', '=', issue.id)
        .where('status', '=', 'failed')
        .executeTakeFirstOrThrow();
      assert.equal(failed.email, 'reader2@example.test');
      assert.equal(failed.attempts, 1, '5xx is not retried');
      assert.match(failed.last_error ?? '', /^550/);
      if (round === 1) {
        const retried = await t.db
          .selectFrom('deliveries')
          .select(['email', 'attempts'])
          .where('issue_id', '=', issue.id)
          .where('email', '=', 'reader1@example.test')
          .executeTakeFirstOrThrow();
        assert.equal(retried.attempts, 3, 'two 451s, then accepted');
      }
    }
    assert.equal(smtp.accepted.get('reader2@example.test'), undefined);
    for (let i = 0; i < 30; i++)
      if (i !== 2)
        assert.equal(smtp.accepted.get(`reader${i}@example.test`), 3, `reader${i} got each of the 3 issues once`);
    const bounced = await t.db
      .selectFrom('subscribers')
      .select('hard_bounce_count')
      .where('email', '=', 'reader2@example.test')
      .executeTakeFirstOrThrow();
    assert.equal(bounced.hard_bounce_count, 3);
    assert.ok(
      await t.db
        .selectFrom('suppressions')
        .select('reason')
        .where('email_hash', '=', emailHash('reader2@example.test'))
        .executeTakeFirst(),
    );
    // The fourth issue is not even queued to the suppressed address.
    const fourth = await createIssue(t.db, deps, { slugs: [slug] });
    assert.equal(await queueIssue(t.db, deps, fourth.id), 29);
  });

  it('pauses while the SMTP server is down and resumes when it returns, losing nothing', async () => {
    await insertSubscribers(t.db, 200, 'confirmed');
    const issue = await createIssue(t.db, deps, { slugs: [slug] });
    await queueIssue(t.db, deps, issue.id);
    smtp.faults.delayMs = 2;
    const lines: string[] = [];
    let downAt: Promise<void> | undefined;
    smtp.onAccepted = (_to, total) => {
      // The server is away for 600 ms: time passing is the fault being simulated.
      if (total === 60)
        downAt = new Promise((resolve) => setTimeout(resolve, 1))
          .then(() => smtp.down())
          .then(() => new Promise((resolve) => setTimeout(resolve, 600)))
          .then(() => smtp.up());
    };
    try {
      await sendToEnd(t.db, issue.id, [worker(t.db, transport, {}, (line) => lines.push(line))]);
    } finally {
      smtp.onAccepted = undefined;
      smtp.faults.delayMs = 0;
      await downAt;
    }
    assert.ok(
      lines.some((l) => /pausing/.test(l)),
      lines.join('\n'),
    );
    assert.equal(smtp.total(), 200);
    assert.deepEqual(smtp.duplicates(), []);
    assert.equal((await countDeliveriesByStatus(t.db, issue.id)).sent, 200);
  });

  it('lets two workers share one send, each reader mailed exactly once', async () => {
    await insertSubscribers(t.db, 600, 'confirmed');
    const issue = await createIssue(t.db, deps, { slugs: [slug] });
    await queueIssue(t.db, deps, issue.id);
    const second = await createMailTransport(mailConfig(smtp.url));
    try {
      await sendToEnd(t.db, issue.id, [
        worker(t.db, transport, { batchSize: 20 }),
        worker(t.db, second, { batchSize: 20 }),
      ]);
    } finally {
      second.close();
    }
    assert.equal(smtp.total(), 600);
    assert.equal(smtp.accepted.size, 600);
    const workers = await t.db
      .selectFrom('deliveries')
      .select('claimed_by')
      .distinct()
      .where('issue_id', '=', issue.id)
      .execute();
    assert.equal(workers.length, 2, 'both workers took part');
  });

  it('duplicates at most the messages in flight when a worker dies between the 250 reply and its record, each with its first Message-ID', async () => {
    await insertSubscribers(t.db, 300, 'confirmed');
    const issue = await createIssue(t.db, deps, { slugs: [slug] });
    await queueIssue(t.db, deps, issue.id);
    // Worker A "dies" at the 100th acceptance: from then on, what the server accepts is never recorded,
    // and nothing new leaves. Its id names a process that does not exist, as after a kill -9.
    let crashed = false;
    const acceptedUnrecorded: string[] = [];
    const hung: (() => void)[] = [];
    let inFlight = 0;
    const hang = () => new Promise<never>((_resolve, reject) => hung.push(() => reject(new Error('dead'))));
    const dying: MailTransport = {
      description: 'dying',
      close: () => {},
      send: async (mail) => {
        if (crashed) return hang();
        inFlight++;
        const outcome = await transport.send(mail).finally(() => inFlight--);
        if (outcome.kind === 'accepted' && (crashed || smtp.total() >= 100)) {
          crashed = true;
          acceptedUnrecorded.push(mail.to);
          return hang();
        }
        return outcome;
      },
    };
    const a = worker(t.db, dying, { workerId: `${hostname()}:999999999:dead`, batchSize: 50 });
    a.start();
    // Dead, and every message it had in flight has had its answer (each accepted one left unrecorded).
    await eventually(
      async () =>
        crashed &&
        inFlight === 0 &&
        (await t.db.selectFrom('deliveries').select('id').where('status', '=', 'sending').execute()).length > 0,
      'worker A to die with its messages landed',
      20_000,
      10,
    );
    const b = worker(t.db, transport);
    await sendToEnd(t.db, issue.id, [b]);
    const stopping = a.stop();
    for (const release of hung) release();
    await stopping;

    assert.equal(smtp.accepted.size, 300, 'nobody lost');
    const duplicates = smtp.duplicates().sort();
    assert.deepEqual(
      duplicates,
      [...acceptedUnrecorded].sort(),
      'exactly the accepted-but-unrecorded messages went twice',
    );
    assert.ok(
      duplicates.length >= 1 && duplicates.length <= concurrency,
      `${duplicates.length} duplicates, at most ${concurrency} (the messages in flight)`,
    );
    for (const to of duplicates) {
      const ids = smtp.messages
        .filter((m) => m.to === to)
        .map((m) => /^Message-ID:[ \t]*(\S+)/im.exec(m.raw.toString('latin1'))?.[1]);
      assert.equal(ids.length, 2, `${to} got two copies`);
      assert.ok(
        ids[0] && ids[0] === ids[1],
        `${to}'s second copy carries the first one's Message-ID (${ids.join(' / ')}), so a receiver can drop it`,
      );
    }
  });

  it('records accepted messages in groups, each lane still waiting for its own record before it sends again', async () => {
    await insertSubscribers(t.db, 120, 'confirmed');
    const issue = await createIssue(t.db, deps, { slugs: [slug] });
    await queueIssue(t.db, deps, issue.id);
    // Counts the statements that record `sent` (the duplicate window itself is tested below and in
    // delivery.crash.test.ts, with the same grouping).
    let records = 0;
    const counting = t.db.withPlugin({
      transformQuery: (args) => {
        if (args.node.kind === 'UpdateQueryNode' && JSON.stringify(args.node).includes('"sent"')) records++;
        return args.node;
      },
      transformResult: (args) => Promise.resolve(args.result),
    });
    await sendToEnd(t.db, issue.id, [worker(counting, transport)]);
    assert.equal(smtp.total(), 120);
    assert.deepEqual(smtp.duplicates(), []);
    assert.equal((await countDeliveriesByStatus(t.db, issue.id)).sent, 120);
    assert.ok(records >= 1 && records < 120 / 2, `${records} statements recorded 120 messages`);
  });

  it('keeps to SEND_RATE_PER_SECOND', async () => {
    await insertSubscribers(t.db, 21, 'confirmed');
    const issue = await createIssue(t.db, deps, { slugs: [slug] });
    await queueIssue(t.db, deps, issue.id);
    const limited = worker(t.db, transport, {}, undefined, 50);
    const started = Date.now();
    await sendToEnd(t.db, issue.id, [limited]);
    assert.ok(Date.now() - started >= 380, `21 messages at 50/s take at least 400 ms, took ${Date.now() - started}`);
    assert.equal(smtp.total(), 21);
  });

  it('logs in with the SMTP_URL credentials; wrong ones pause the send instead of failing readers', async () => {
    await insertSubscribers(t.db, 5, 'confirmed');
    const guarded = await startTestSmtpServer({ auth: { user: 'gazette', pass: 'p@ss word' } });
    const wrong = await createMailTransport(mailConfig(guarded.url.replace('smtp://', 'smtp://gazette:nope@')), {
      connectionTimeoutMs: 400,
      socketTimeoutMs: 400,
    });
    const right = await createMailTransport(
      mailConfig(guarded.url.replace('smtp://', `smtp://gazette:${encodeURIComponent('p@ss word')}@`)),
    );
    try {
      const issue = await createIssue(t.db, deps, { slugs: [slug] });
      await queueIssue(t.db, deps, issue.id);
      const refused = worker(t.db, wrong);
      assert.equal(await refused.runOnce(), 5);
      assert.deepEqual(
        await countDeliveriesByStatus(t.db, issue.id),
        { queued: 5, sending: 0, sent: 0, failed: 0, skipped: 0 },
        'nothing failed, nothing lost',
      );
      await sendToEnd(t.db, issue.id, [worker(t.db, right)]);
      assert.equal(guarded.total(), 5);
    } finally {
      wrong.close();
      right.close();
      await guarded.close();
    }
  });

  it('signs with DKIM covering List-Unsubscribe and List-Unsubscribe-Post', async () => {
    await insertSubscribers(t.db, 1, 'confirmed');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = path.join(t.dataDir, 'dkim.pem');
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const signed = await createMailTransport(
      mailConfig(smtp.url, { domain: 'news.example.test', selector: 'gazette', privateKeyFile: keyFile }),
    );
    try {
      const issue = await createIssue(t.db, deps, { slugs: [slug] });
      await queueIssue(t.db, deps, issue.id);
      await sendToEnd(t.db, issue.id, [worker(t.db, signed)]);
    } finally {
      signed.close();
    }
    const raw = smtp.messages[0]?.raw.toString() ?? '';
    const signature = /^DKIM-Signature: (.*(?:\r\n[ \t].*)*)/im.exec(raw)?.[1]?.replace(/\r\n[ \t]+/g, '') ?? '';
    assert.match(signature, /d=news\.example\.test/);
    assert.match(signature, /s=gazette/);
    const signedHeaders = (/\bh=([^;]+)/.exec(signature)?.[1] ?? '').replace(/\s/g, '').toLowerCase().split(':');
    for (const header of ['from', 'subject', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id', 'message-id'])
      assert.ok(signedHeaders.includes(header), `h= covers ${header}: ${signedHeaders.join(':')}`);
    assert.match(raw, /^Precedence: bulk\r$/m, 'the nodemailer path marks list mail as bulk too');
  });
});

describe('a full disk while newsletter deliveries are in flight (SQLite on a small tmpfs)', () => {
  let disk: Awaited<ReturnType<typeof tmpfsDirectory>>;
  let dataDir = '';
  let db: TestDatabase['db'] | undefined;
  let smtp: TestSmtpServer;
  before(async () => {
    disk = await tmpfsDirectory('16m');
    dataDir = await mkdtemp(path.join(tmpdir(), 'gazette-data-'));
    smtp = await startTestSmtpServer();
  });
  after(async () => {
    await db?.destroy();
    await smtp.close();
    await disk.remove();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('each accepted delivery is recorded once space returns, none is sent twice or left in sending', async (t) => {
    if (!disk.mounted) return t.skip('cannot mount a tmpfs here (not root)');
    const { dir } = disk;
    db = createDb({ kind: 'sqlite', file: path.join(dir, 'gazette.sqlite') }).db;
    await migrateToLatest(db);
    await seedDemoPublication(db, { dataDir });
    await insertSubscribers(db, 6, 'confirmed');
    const issue = await createIssue(db, deps, { slugs: [demoArticles[0]!.slug] });
    assert.equal(await queueIssue(db, deps, issue.id), 6);
    const transport = await createMailTransport(mailConfig(smtp.url));
    const lines: string[] = [];
    const w = worker(db, transport, {}, (line) => lines.push(line));
    const filler = path.join(dir, 'filler');
    try {
      // Slow replies: the first four are in flight when the disk fills.
      smtp.faults.delayMs = 500;
      w.start();
      await eventually(
        async () => (await countDeliveriesByStatus(db!, issue.id)).sending > 0,
        'deliveries are in flight',
        20_000,
      );
      await fillDisk(filler);
      await eventually(() => lines.some((l) => l.includes('SQLITE_FULL')), 'the worker logs the full disk', 20_000);
      smtp.faults.delayMs = 0;
      await rm(filler);
      await eventually(
        async () => (await countDeliveriesByStatus(db!, issue.id)).sent === 6,
        'every delivery is sent',
        20_000,
      );
    } finally {
      await w.stop();
      transport.close();
      await rm(filler, { force: true });
    }
    assert.equal(smtp.total(), 6);
    assert.deepEqual(smtp.duplicates(), []);
  });
});
