import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { demoArticles } from '../src/modules/seed/demo.content.ts';
import { seedDemoPublication } from '../src/modules/seed/seed.service.ts';
import { insertSubscribers } from '../src/modules/newsletters/newsletters.fixtures.ts';
import { countDeliveriesByStatus } from '../src/modules/newsletters/newsletters.repository.ts';
import { createTestDatabase, type TestDatabase } from './helpers/databases.ts';
import { eventually } from './helpers/eventually.ts';
import { spawnGazette } from './helpers/gazette-process.ts';
import { startTestSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { freePort } from './helpers/ports.ts';

/** SIGTERM to the real `gazette serve` and `gazette worker` processes. */
describe('graceful shutdown', () => {
  let t: TestDatabase;
  let smtp: TestSmtpServer;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  before(async () => {
    t = await createTestDatabase('sqlite');
    await seedDemoPublication(t.db, { dataDir: t.dataDir });
    smtp = await startTestSmtpServer();
    env = {
      DATABASE_URL: t.url,
      DATA_DIR: t.dataDir,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'News <newsletter@news.example.test>',
      SECRET_KEY: 'k'.repeat(40),
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
    };
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await smtp.close();
    await t.drop();
  });

  const gazette = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const run = spawnGazette(args, { ...env, ...extraEnv });
    children.push(run.child);
    return run;
  };

  it('serve: a request in flight at SIGTERM completes with 200, /readyz turns 503 while draining, then the process exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = gazette(['serve'], {
      PORT: String(port),
      SITE_URL: base,
      WORKER: 'false',
      SHUTDOWN_DELAY_MS: '800',
    });
    await server.waitFor('Gazette is serving');
    assert.equal((await fetch(`${base}/readyz`)).status, 200);

    // A sign-up whose body is still arriving when SIGTERM comes: in flight for the whole shutdown.
    const body = 'email=late.reader%40example.test&consent=yes&source=%2F';
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let response = '';
    socket.on('data', (d: Buffer) => (response += d.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // `Expect: 100-continue` makes the server say when it has read the headers: from then on it is in flight.
    socket.write(
      `POST /newsletter/subscribe HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await eventually(
      () => response.startsWith('HTTP/1.1 100 Continue\r\n\r\n'),
      () => `100 Continue from serve (got ${JSON.stringify(response)})`,
      10_000,
    );
    socket.write(body.slice(0, 10));

    server.child.kill('SIGTERM');
    await server.waitFor('SIGTERM: finishing the requests in flight');
    const draining = await fetch(`${base}/readyz`);
    assert.equal(draining.status, 503);
    assert.equal(((await draining.json()) as { reason: string }).reason, 'shutting down');
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'still alive while draining');

    // After the delay it stops accepting new connections, but waits for the sign-up.
    await eventually(
      () =>
        fetch(`${base}/healthz`).then(
          () => false,
          () => true,
        ),
      'serve to refuse new connections once closing',
      10_000,
    );
    assert.equal(server.child.exitCode, null, 'still waiting for the request in flight');

    socket.write(body.slice(10));
    await closed;
    assert.match(response, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    assert.match(response, /[Cc]heck your inbox/);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    const stored = await t.db
      .selectFrom('subscribers')
      .select('status')
      .where('email_key', '=', 'late.reader@example.test')
      .executeTakeFirst();
    assert.equal(stored?.status, 'pending', 'the sign-up that was in flight is recorded');
  });

  it('worker: SIGTERM in the middle of a send finishes the messages in flight, records them, gives the rest back and exits 0', async () => {
    await insertSubscribers(t.db, 400, 'confirmed', 'shutdown');
    smtp.reset();
    smtp.faults.delayMs = 20;
    const queued = gazette(['newsletter', 'send', demoArticles[0]!.slug]);
    assert.equal((await queued.exited).code, 0, queued.output());
    const issueId = (
      await t.db.selectFrom('newsletter_issues').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()
    ).id;

    const worker = gazette(['worker'], { SEND_CONCURRENCY: '8' });
    await new Promise<void>((resolve) => {
      smtp.onAccepted = (_to, total) => {
        if (total === 60) resolve();
      };
    });
    worker.child.kill('SIGTERM');
    assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output());
    smtp.onAccepted = undefined;
    const counts = await countDeliveriesByStatus(t.db, issueId);
    assert.equal(counts.sending, 0, 'nothing left claimed by the stopped worker');
    assert.equal(counts.sent, smtp.total(), 'every message the server accepted is recorded as sent');
    assert.ok(counts.queued > 0, 'the rest went back to the queue');

    smtp.faults.delayMs = 0;
    const second = gazette(['worker']);
    await eventually(
      async () => (await countDeliveriesByStatus(t.db, issueId)).sent === 400,
      'the second worker to send the rest',
      30_000,
      50,
    );
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);
    assert.deepEqual(smtp.duplicates(), [], 'nobody twice');
    assert.equal(smtp.total(), 400);
  });
});
