import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { runGazette } from '../../../test/helpers/gazette-process.ts';
import { demoArticles } from '../seed/demo.content.ts';
import { seedDemoPublication } from '../seed/seed.service.ts';
import { insertSubscribers } from '../newsletters/newsletters.fixtures.ts';

const corpus = path.resolve(import.meta.dirname, '../../../test/fixtures/bounces');
const fixture = (name: string) => readFile(path.join(corpus, name), 'latin1');

/** A real SMTP server that keeps each message with its envelope sender (MAIL FROM). */
async function startSmtp(): Promise<{
  url: string;
  messages: { from: string; to: string; raw: string }[];
  close: () => Promise<void>;
}> {
  const messages: { from: string; to: string; raw: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        for (const rcpt of session.envelope.rcptTo)
          messages.push({ from, to: rcpt.address, raw: Buffer.concat(chunks).toString('latin1') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    messages,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The whole loop as an operator runs it: `gazette newsletter send` with BOUNCE_ADDRESS, then real bounce
 * mails (sisimai's corpus) delivered back to the VERP address and fed to `gazette bounces ingest` on
 * standard input, then the readers' state through the CLI and the next send.
 */
describe('gazette bounces ingest: VERP out, real bounces in', () => {
  let t: TestDatabase;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    t = await createTestDatabase('sqlite');
    await seedDemoPublication(t.db, { dataDir: t.dataDir });
    await insertSubscribers(t.db, 6, 'confirmed');
    smtp = await startSmtp();
    env = {
      DATABASE_URL: t.url,
      DATA_DIR: t.dataDir,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'The Judean <newsletter@news.example>',
      SITE_URL: 'https://news.example',
      SECRET_KEY: 'b'.repeat(40),
      BOUNCE_ADDRESS: 'bounces@news.example',
      BOUNCE_SOFT_LIMIT: '2',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
    };
  });
  after(async () => {
    await smtp.close();
    await t.drop();
  });

  const ingest = async (message: string, recipient?: string) => {
    const run = await runGazette(['bounces', 'ingest', ...(recipient ? ['--recipient', recipient] : [])], env, {
      stdin: message,
    });
    assert.equal(run.code, 0, run.output);
    return run.stdout.trim();
  };
  const sendIssue = async (slug: string) => {
    const before = smtp.messages.length;
    const run = await runGazette(['newsletter', 'send', slug, '--wait'], env);
    assert.equal(run.code, 0, run.output);
    return smtp.messages.slice(before);
  };
  const statusOf = async () => {
    const run = await runGazette(['subscribers', 'export'], env);
    return new Map(
      run.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => [line.split(',')[0]!, line.split(',')[2]!]),
    );
  };
  const events = async (email: string) =>
    (
      await t.db
        .selectFrom('consent_events')
        .innerJoin('subscribers', 'subscribers.id', 'consent_events.subscriber_id')
        .select(['kind', 'detail'])
        .where('subscribers.email', '=', email)
        .orderBy('consent_events.id')
        .execute()
    ).map((e) => ({ kind: e.kind, detail: JSON.parse(e.detail ?? '{}') as Record<string, unknown> }));

  let first: { from: string; to: string; raw: string }[] = [];
  const verpOf = (to: string, batch = first) =>
    batch.find((m) => m.to === to)?.from ?? assert.fail(`no message to ${to}`);

  it('each message leaves with its own signed VERP envelope sender; From: stays MAIL_FROM', async () => {
    first = await sendIssue(demoArticles[0]!.slug);
    assert.equal(first.length, 6);
    for (const m of first) {
      assert.match(m.from, /^bounces\+d\d+-[0-9a-f]{20}@news\.example$/);
      const parsed = await simpleParser(m.raw);
      assert.equal(parsed.from?.value[0]?.address, 'newsletter@news.example');
    }
    assert.equal(new Set(first.map((m) => m.from)).size, 6, 'one tag per delivery');
  });

  it('a real hard bounce (Postfix DSN, 5.1.1) to the VERP address suppresses at once; the same bounce again counts once', async () => {
    const bounce = await fixture('email-postfix-02.eml');
    const line = await ingest(bounce, verpOf('reader0@example.test'));
    assert.match(line, /^hard bounce \(5\.2\.1 .*User Unknown\) for delivery \d+ of issue \d+: address suppressed\.$/);
    assert.match(await ingest(bounce, verpOf('reader0@example.test')), /already counted, nothing changed/);
    const record = await events('reader0@example.test');
    assert.deepEqual(
      record.map((e) => e.kind),
      ['bounced'],
      'one event in the subscriber record',
    );
    assert.equal(record[0]?.detail.bounce, 'hard');
    assert.equal(typeof record[0]?.detail.issue, 'number');
  });

  it('a soft bounce (mailbox full) delivered with a lower-cased VERP address counts, without suppressing', async () => {
    // Some servers lower-case the local part; Delivered-To is what a local delivery agent adds.
    const bounce = `Delivered-To: ${verpOf('reader1@example.test').toLowerCase()}\n${await fixture('rhost-outlook-01.eml')}`;
    assert.match(await ingest(bounce), /^soft bounce \(5\.2\.2 .*Mailbox Full\) .*: soft bounce 1 of 2 in 30 days\.$/);
  });

  it('a complaint (ARF abuse report quoting our message) unsubscribes and suppresses', async () => {
    // A feedback loop sends reports to a fixed address: the tag comes from the quoted message's Message-ID.
    const original = first.find((m) => m.to === 'reader2@example.test')!.raw;
    const report = (await fixture('arf-21.eml')).replace(
      /(Content-Type: message\/rfc822\n\n)[\s\S]*$/,
      `$1${original.replace(/\r\n/g, '\n')}\n`,
    );
    assert.match(
      await ingest(report),
      /^complaint \(abuse\) for delivery \d+ of issue \d+: unsubscribed and address suppressed\.$/,
    );
    assert.deepEqual(
      (await events('reader2@example.test')).map((e) => e.kind),
      ['complained'],
    );
  });

  it('an out-of-office reply to the VERP address changes nothing', async () => {
    assert.equal(
      await ingest(await fixture('rfc3834-03.eml'), verpOf('reader3@example.test')),
      'auto-reply: ignored, nothing changed.',
    );
    assert.deepEqual(await events('reader3@example.test'), []);
  });

  it('a forged or altered tag is never acted on, and a bounce with no tag is kept for review', async () => {
    const genuine = verpOf('reader4@example.test');
    const altered = genuine.replace(/-([0-9a-f])/, (_, c: string) => `-${c === '0' ? '1' : '0'}`);
    const forgedLine = await ingest(await fixture('email-google-18.eml'), altered);
    assert.match(
      forgedLine,
      /^hard bounce .*: its tag is not genuine \(forged or altered\); kept for review as quarantined message \d+, nothing changed\.$/,
    );
    const otherDelivery = genuine.replace(/\+d(\d+)-/, (_, id: string) => `+d${Number(id) + 1}-`);
    assert.match(
      await ingest(await fixture('email-sendmail-01.eml'), otherDelivery),
      /not genuine/,
      'a genuine tag moved to another delivery id',
    );
    assert.match(
      await ingest(await fixture('email-exim-02.eml')),
      /no signed tag ties it to a delivery; kept for review/,
    );
    assert.deepEqual(await events('reader4@example.test'), []);
    const list = await runGazette(['bounces', 'quarantine'], env);
    assert.equal(list.code, 0);
    assert.equal(list.stdout.trim().split('\n').length, 3);
    assert.match(list.stdout, /forged_tag .*hard/);
    assert.match(list.stdout, /no_tag/);
  });

  it('the readers then: the complainer is unsubscribed; the next issue skips the hard bounce and the complainer', async () => {
    const status = await statusOf();
    assert.equal(status.get('reader2@example.test'), 'unsubscribed');
    assert.equal(
      status.get('reader0@example.test'),
      'confirmed',
      'a bounce withdraws no consent; the address is suppressed',
    );
    const second = await sendIssue(demoArticles[1]!.slug);
    assert.deepEqual(second.map((m) => m.to).sort(), [
      'reader1@example.test',
      'reader3@example.test',
      'reader4@example.test',
      'reader5@example.test',
    ]);
    // The second soft bounce within 30 days reaches BOUNCE_SOFT_LIMIT=2: suppressed from then on.
    const bounce = await fixture('email-google-16.eml');
    assert.match(await ingest(bounce, verpOf('reader1@example.test', second)), /: address suppressed\.$/);
    const third = await sendIssue(demoArticles[2]!.slug);
    assert.deepEqual(third.map((m) => m.to).sort(), [
      'reader3@example.test',
      'reader4@example.test',
      'reader5@example.test',
    ]);
  });

  it('refuses a 20 MB message cleanly, and exits 0', async () => {
    const huge = `From: x@example.org\nSubject: big\n\n${'a'.repeat(20 * 1024 * 1024)}`;
    assert.match(await ingest(huge), /^Refused: the message is larger than 10 MB/);
  });
});
