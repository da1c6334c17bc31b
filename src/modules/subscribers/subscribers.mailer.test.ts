import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { eventually } from '../../../test/helpers/eventually.ts';
import { spawnGazette } from '../../../test/helpers/gazette-process.ts';
import { buildApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { createDb, type Db } from '../../db/index.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { createLogger } from '../../logging.ts';
import { freePort } from '../../../test/helpers/ports.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/helpers/smtp.ts';
import { fillDisk, tmpfsDirectory } from '../../../test/helpers/tmpfs.ts';
import { createMailTransport, type MailTransport } from '../mail/mail.transport.ts';
import { seedDemoPublication } from '../seed/seed.service.ts';
import { createSubscriberMailer, type SubscriberMailer } from './subscribers.mailer.ts';
import { countSubscriberMailsByStatus } from './subscribers.mails.repository.ts';
import { SubscriberService } from './subscribers.service.ts';

const formType = { 'content-type': 'application/x-www-form-urlencoded' };

/** The confirmation links of the messages the server accepted for `address`, oldest first. */
async function confirmLinks(smtp: TestSmtpServer, address: string): Promise<string[]> {
  const links: string[] = [];
  for (const message of smtp.messages.filter((m) => m.to === address)) {
    const mail = await simpleParser(message.raw);
    const link = /https?:\/\/[^/\s]+(\/newsletter\/confirm\?token=[A-Za-z0-9._-]+)/.exec(mail.text ?? '')?.[1];
    if (link) links.push(link);
  }
  return links;
}

describe('sign-up mails are queued with the sign-up, so none is lost (HTTP + real SMTP)', () => {
  let smtp: TestSmtpServer;
  let site: TestSite;
  let ipCounter = 0;

  before(async () => {
    smtp = await startTestSmtpServer({ keepRaw: true });
    site = await createTestSite({ env: { SMTP_URL: smtp.url, SIGNUP_LIMIT_PER_IP: '0' } });
  });
  after(async () => {
    await site.close();
    await smtp.close();
  });
  beforeEach(() => smtp.reset());

  const signup = (email: string) =>
    site.app.inject({
      method: 'POST',
      url: '/newsletter/subscribe',
      headers: formType,
      payload: new URLSearchParams({ email, consent: 'yes', source: '/' }).toString(),
      remoteAddress: `198.51.100.${++ipCounter % 250}`,
    });

  it('a sign-up while the SMTP server is down is answered as usual, and its confirmation arrives once the server is back', async () => {
    await smtp.down();
    const res = await signup('patient@example.com');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Check your inbox/);
    await eventually(
      async () => (await countSubscriberMailsByStatus(site.db)).queued === 1,
      'the mail is back in the queue',
    );
    await smtp.up();
    await eventually(() => smtp.accepted.get('patient@example.com') === 1, 'the confirmation arrives');
    const [link] = await confirmLinks(smtp, 'patient@example.com');
    assert.ok(link);
    assert.equal(
      (
        await site.app.inject({
          method: 'POST',
          url: '/newsletter/confirm',
          headers: formType,
          payload: `token=${encodeURIComponent(new URL(link, 'http://x').searchParams.get('token') ?? '')}`,
        })
      ).statusCode,
      200,
    );
    const row = await site.db
      .selectFrom('subscribers')
      .select('status')
      .where('email_key', '=', 'patient@example.com')
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'confirmed');
    const mail = await site.db
      .selectFrom('subscriber_mails')
      .innerJoin('subscribers', 'subscribers.id', 'subscriber_mails.subscriber_id')
      .select(['subscriber_mails.status', 'message_id'])
      .where('email_key', '=', 'patient@example.com')
      .executeTakeFirstOrThrow();
    assert.equal(mail.status, 'sent');
    assert.match(mail.message_id ?? '', /^<signup\.\d+\.[A-Za-z0-9_-]{16}@gazette\.test>$/);
  });

  it('signing up twice before the first mail left sends one mail, and its link works', async () => {
    await smtp.down();
    assert.equal((await signup('twice.held@example.com')).statusCode, 200);
    assert.equal((await signup('Twice.Held@example.com')).statusCode, 200);
    await smtp.up();
    await eventually(() => (smtp.accepted.get('twice.held@example.com') ?? 0) >= 1, 'a confirmation arrives');
    // Once neither mail is queued or in flight, nothing more can go out: then only one has.
    await eventually(async () => {
      const left = await site.db
        .selectFrom('subscriber_mails')
        .innerJoin('subscribers', 'subscribers.id', 'subscriber_mails.subscriber_id')
        .select('subscriber_mails.status')
        .where('email_key', '=', 'twice.held@example.com')
        .execute();
      return left.every((m) => m.status !== 'queued' && m.status !== 'sending');
    }, 'both mails to be settled');
    assert.equal(smtp.accepted.get('twice.held@example.com'), 1, 'one mail, not two');
    const [link] = await confirmLinks(smtp, 'twice.held@example.com');
    const page = await site.app.inject({ url: link ?? '/' });
    assert.equal(page.statusCode, 200, 'the link that was sent is the live one');
    assert.match(page.body, /Confirm my subscription/);
    const statuses = await site.db
      .selectFrom('subscriber_mails')
      .innerJoin('subscribers', 'subscribers.id', 'subscriber_mails.subscriber_id')
      .select('subscriber_mails.status')
      .where('email_key', '=', 'twice.held@example.com')
      .orderBy('subscriber_mails.id')
      .execute();
    assert.deepEqual(
      statuses.map((s) => s.status),
      ['skipped', 'sent'],
    );
  });

  it('64 sign-ups at once are each stored once, with one consent event and one confirmation mail', async () => {
    const addresses = Array.from({ length: 64 }, (_, i) => `burst${i}@example.com`);
    const answers = await Promise.all([...addresses, 'burst0@example.com'].map((a) => signup(a)));
    assert.ok(answers.every((a) => a.statusCode === 200));
    await eventually(() => addresses.every((a) => (smtp.accepted.get(a) ?? 0) >= 1), 'every confirmation arrives');
    await eventually(async () => {
      const counts = await countSubscriberMailsByStatus(site.db);
      return counts.queued === 0 && counts.sending === 0;
    }, 'every mail to be settled');
    const rows = await site.db
      .selectFrom('subscribers')
      .select(['id', 'email_key'])
      .where('email_key', 'like', 'burst%')
      .execute();
    assert.equal(rows.length, 64);
    const events = await site.db
      .selectFrom('consent_events')
      .select('subscriber_id')
      .where('kind', '=', 'signup')
      .where(
        'subscriber_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    assert.equal(events.length, 65, 'one signup event per sign-up, the repeated address included');
    // burst0 signed up twice in the same instant: both may be mailed or only the newest, never a dead link.
    for (const a of addresses.slice(1)) assert.equal(smtp.accepted.get(a), 1, a);
    const links = await confirmLinks(smtp, 'burst0@example.com');
    const live = await site.app.inject({ url: links.at(-1) ?? '/' });
    assert.equal(live.statusCode, 200);
  });
});

describe('sign-up mail retries (service and mailer on a real database and SMTP server)', () => {
  let t: TestDatabase;
  let smtp: TestSmtpServer;
  let transport: MailTransport;
  let mailer: SubscriberMailer;
  let service: SubscriberService;

  before(async () => {
    t = await createTestDatabase('sqlite');
    await seedDemoPublication(t.db, { dataDir: t.dataDir });
    smtp = await startTestSmtpServer();
    transport = await createMailTransport({
      mail: { smtpUrl: smtp.url, from: 'News <news@example.test>', dkim: null, concurrency: 4, ratePerSecond: 0 },
      dataDir: t.dataDir,
    });
    mailer = createSubscriberMailer({
      db: t.db,
      transport,
      secret: 's'.repeat(43),
      siteUrl: 'https://news.example.test',
      concurrency: 4,
      options: { retryBaseMs: 50, pollMs: 20, maxAttempts: 3 },
    });
    service = new SubscriberService({
      db: t.db,
      secret: 's'.repeat(43),
      config: { siteUrl: 'https://news.example.test', ipStorage: 'truncated' },
      now: () => new Date(),
      mailer,
    });
    mailer.start();
  });
  after(async () => {
    await mailer.stop();
    transport.close();
    await smtp.close();
    await t.drop();
  });

  const statusOf = async (email: string) =>
    await t.db
      .selectFrom('subscriber_mails')
      .innerJoin('subscribers', 'subscribers.id', 'subscriber_mails.subscriber_id')
      .select(['subscriber_mails.status', 'attempts', 'last_error'])
      .where('email_key', '=', email)
      .executeTakeFirstOrThrow();

  it('a temporary refusal (451) is retried later and then sent once', async () => {
    smtp.faults.temporary.set('retry@example.com', 1);
    await service.signup(
      { email: 'retry@example.com', consent: 'yes', source: '/', website: undefined },
      { ip: '203.0.113.9', userAgent: undefined },
    );
    await eventually(() => smtp.accepted.get('retry@example.com') === 1, 'sent after the retry');
    await eventually(async () => (await statusOf('retry@example.com')).status === 'sent', 'recorded');
    assert.equal((await statusOf('retry@example.com')).attempts, 2);
  });

  it('a permanent refusal (550) is recorded as failed and never retried', async () => {
    smtp.faults.permanent.add('refused@example.com');
    await service.signup(
      { email: 'refused@example.com', consent: 'yes', source: '/', website: undefined },
      { ip: '203.0.113.9', userAgent: undefined },
    );
    await eventually(async () => (await statusOf('refused@example.com')).status === 'failed', 'failed');
    const row = await statusOf('refused@example.com');
    assert.equal(row.attempts, 1);
    assert.match(row.last_error ?? '', /^550 /);
    assert.equal(smtp.accepted.get('refused@example.com'), undefined);
  });

  it('an address that keeps failing temporarily is given up after the last attempt', async () => {
    smtp.faults.temporary.set('flaky@example.com', 100);
    await service.signup(
      { email: 'flaky@example.com', consent: 'yes', source: '/', website: undefined },
      { ip: '203.0.113.9', userAgent: undefined },
    );
    await eventually(async () => (await statusOf('flaky@example.com')).status === 'failed', 'given up', 10_000);
    assert.equal((await statusOf('flaky@example.com')).attempts, 3);
    smtp.faults.temporary.delete('flaky@example.com');
  });
});

describe('kill -9 of `gazette serve` with sign-up mails in flight', () => {
  let t: TestDatabase;
  let smtp: TestSmtpServer;
  const children: ChildProcess[] = [];
  const readers = 300;

  before(async () => {
    t = await createTestDatabase('sqlite');
    smtp = await startTestSmtpServer();
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await smtp.close();
    await t.drop();
  });

  const serve = (port: number) => {
    const env: NodeJS.ProcessEnv = {
      DATABASE_URL: t.url,
      DATA_DIR: t.dataDir,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'News <newsletter@news.example.test>',
      SITE_URL: 'https://news.example.test',
      SECRET_KEY: 'k'.repeat(40),
      SIGNUP_LIMIT_PER_IP: '0',
      PORT: String(port),
      LOG_LEVEL: 'silent',
    };
    const server = spawnGazette(['serve'], env);
    children.push(server.child);
    const exited = server.exited.then(({ code, signal }) => signal ?? code);
    return { child: server.child, exited, output: server.output };
  };

  const post = (base: string, email: string) =>
    fetch(`${base}/newsletter/subscribe`, {
      method: 'POST',
      headers: formType,
      body: new URLSearchParams({ email, consent: 'yes', source: '/' }).toString(),
    });

  it('every answered sign-up gets its confirmation after a restart, each exactly once', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = serve(port);
    await eventually(
      async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true,
      'serving',
      30_000,
    );
    // The server holds every reply: the mails are claimed and in flight, none accepted, when the kill comes.
    smtp.freeze();
    const addresses = Array.from({ length: readers }, (_, i) => `crash${i}@example.com`);
    const answers = await Promise.all(addresses.map((a) => post(base, a)));
    assert.ok(
      answers.every((a) => a.status === 200),
      'every sign-up answered',
    );
    await eventually(async () => (await countSubscriberMailsByStatus(t.db)).sending > 0, 'mails are in flight');
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    smtp.thaw();
    const left = await countSubscriberMailsByStatus(t.db);
    assert.equal(left.sent, 0);
    assert.equal(left.queued + left.sending, readers, 'every answered sign-up has its mail on record');

    const second = serve(port);
    await eventually(() => addresses.every((a) => smtp.accepted.get(a) === 1), 'every confirmation arrives', 30_000);
    await eventually(async () => (await countSubscriberMailsByStatus(t.db)).sent === readers, 'recorded');
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());
    assert.equal(smtp.accepted.size, readers, 'nobody lost');
    assert.deepEqual(smtp.duplicates(), [], 'nobody twice');
  });
});

describe('a full disk while sign-up mails are in flight (SQLite on a small tmpfs)', () => {
  let disk: Awaited<ReturnType<typeof tmpfsDirectory>>;
  let db: Db | undefined;
  let smtp: TestSmtpServer;
  before(async () => {
    disk = await tmpfsDirectory('16m');
    smtp = await startTestSmtpServer();
  });
  after(async () => {
    await db?.destroy();
    await smtp.close();
    await disk.remove();
  });

  it('every mail is sent exactly once after space returns, and the log names SQLITE_FULL, not the failed rollback', async (t) => {
    if (!disk.mounted) return t.skip('cannot mount a tmpfs here (not root)');
    const { dir } = disk;
    const file = path.join(dir, 'gazette.sqlite');
    db = createDb({ kind: 'sqlite', file }).db;
    await migrateToLatest(db);
    const lines: string[] = [];
    const destination = new Writable({
      write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()),
    });
    const config = loadConfig({
      DATA_DIR: dir,
      DATABASE_URL: `sqlite:${file}`,
      SITE_URL: 'http://gazette.test',
      SMTP_URL: smtp.url,
      SIGNUP_LIMIT_PER_IP: '0',
    });
    const { app } = await buildApp({
      config,
      db,
      logger: createLogger({ logLevel: 'info', logFormat: 'json' }, destination),
    });
    await app.ready();
    const signup = (email: string) =>
      app.inject({
        method: 'POST',
        url: '/newsletter/subscribe',
        headers: formType,
        payload: new URLSearchParams({ email, consent: 'yes', source: '/' }).toString(),
      });
    try {
      // The server answers slowly, so both mails are claimed and in flight when the disk fills.
      smtp.faults.delayMs = 500;
      const answers = await Promise.all(['accepted@example.com', 'later@example.com'].map(signup));
      assert.deepEqual(
        answers.map((a) => a.statusCode),
        [200, 200],
      );
      await eventually(async () => (await countSubscriberMailsByStatus(db!)).sending === 2, 'both mails are in flight');
      const filler = path.join(dir, 'filler');
      await fillDisk(filler);
      await eventually(
        () => lines.some((l) => l.includes('Sign-up mails: SQLITE_FULL')),
        'the mailer logs the full disk',
      );
      smtp.faults.delayMs = 0;

      // A sign-up meanwhile is told the truth (507), and the log names SQLITE_FULL rather than the rollback.
      const refused = await signup('meanwhile@example.com');
      assert.equal(refused.statusCode, 507);
      assert.match(refused.body, /run out of disk space/);
      assert.ok(
        lines.some((l) => l.includes('"msg":"disk full"') && l.includes('SQLITE_FULL')),
        'the request log names SQLITE_FULL',
      );
      assert.ok(!lines.some((l) => l.includes('cannot rollback')), 'the real error is not hidden');

      await rm(filler);
      await eventually(
        async () => (await countSubscriberMailsByStatus(db!)).sent === 2,
        'both mails are recorded sent',
      );
      assert.equal(smtp.accepted.get('accepted@example.com'), 1);
      assert.equal(smtp.accepted.get('later@example.com'), 1);
      assert.equal((await countSubscriberMailsByStatus(db)).sending, 0, 'no claim left behind');
      assert.deepEqual(smtp.duplicates(), []);
    } finally {
      await app.close();
    }
  });
});
