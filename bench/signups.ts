// `npm run bench:signups [-- --requests 20000 --connections 64 --database sqlite|postgres] [--limits]`
//
// Newsletter sign-ups per second, nothing lost. A real `gazette serve` (fresh demo site, SQLite by default,
// sign-up rate limits lifted with SIGNUP_LIMIT_PER_IP=0 and SIGNUP_LIMIT_PER_ADDRESS=0, confirmation mails
// to Postfix's smtp-sink on loopback) takes concurrent POSTs of the real sign-up form, each with a new
// address, over keep-alive connections: the figure is sign-ups answered per second, and the time until the
// last of their confirmation mails was accepted by the sink is reported beside it. Then another batch, and
// the server is killed with SIGKILL the moment its last sign-up is answered — a crash, no graceful shutdown,
// mails in flight — and the database is read: every sign-up answered 2xx/303 must be there, once, with its
// consent record and its queued mail; a restart must then send every mail the crash left behind. The
// ceiling, measured in the same run with the same client: the same number of POSTs to a bare node:http
// server answering each with the same page. `--limits` keeps both rate limits counting (the per-IP limit set
// far above the run, so nothing is refused): the cost of the database rate limits on every sign-up.
import { Agent, request as httpRequest } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDb, type Db } from '../src/db/index.ts';
import { countSubscriberMailsByStatus } from '../src/modules/subscribers/subscribers.mails.repository.ts';
import type { SubscriberMailStatus } from '../src/modules/subscribers/subscribers.table.ts';
import {
  cleanUpSync,
  cpuBusyShare,
  createBenchPostgres,
  findExecutable,
  freePort,
  gazetteEnv,
  host,
  machineLine,
  makeTempDir,
  rootDir,
  startChild,
  startGazette,
  stopChild,
  waitUntilAnswering,
  type Child,
} from './harness.ts';

const target = { signupsPerSecond: 1000 } as const;

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '64' },
    database: { type: 'string', default: 'sqlite' },
    mail: { type: 'string', default: 'smtp' },
    limits: { type: 'boolean', default: false },
  },
  strict: true,
});
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
const database = values.database;
if (
  ![requests, warmup, connections].every((n) => Number.isInteger(n) && n >= 0) ||
  connections < 1 ||
  (database !== 'sqlite' && database !== 'postgres')
) {
  console.error(
    'Usage: npm run bench:signups -- [--requests N] [--warmup N] [--connections N] [--database sqlite|postgres] [--limits]',
  );
  process.exit(2);
}

interface RunResult {
  seconds: number;
  /** Status per address, in the order sent. */
  statuses: Map<string, number>;
  errors: number;
}

/** POSTs one form per address over `connections` keep-alive connections, as fast as they are answered. */
async function postAll(url: string, addresses: string[]): Promise<RunResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const statuses = new Map<string, number>();
  let errors = 0;
  let next = 0;
  const target = new URL(url);
  const post = (email: string) =>
    new Promise<number>((resolve, reject) => {
      const body = new URLSearchParams({
        email,
        consent: 'yes',
        source: '/articles/blinken-meets-herzog-ceasefire-push',
      }).toString();
      const req = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < addresses.length) {
        const email = addresses[next++] ?? '';
        try {
          statuses.set(email, await post(email));
        } catch {
          errors++;
          statuses.set(email, 0);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { seconds, statuses, errors };
}

const accepted = (status: number) => (status >= 200 && status < 300) || status === 303;

function statusSummary(statuses: Map<string, number>): string {
  const counts = new Map<number, number>();
  for (const s of statuses.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${n.toLocaleString('en')} × ${s === 0 ? 'no answer' : s}`)
    .join(', ');
}

/** The sign-ups of a run, read from the database: stored once, with their consent event and their mail. */
async function readBack(
  openDb: () => Db,
  runId: string,
): Promise<{
  stored: Map<string, number>;
  withoutConsent: number;
  withoutOneMail: number;
  notPending: number;
  mails: Record<SubscriberMailStatus, number>;
}> {
  const db = openDb();
  try {
    const rows = await db
      .selectFrom('subscribers')
      .select(['id', 'email', 'status'])
      .where('email', 'like', `%.${runId}@bench.example`)
      .execute();
    const ids = rows.length > 0 ? rows.map((r) => r.id) : [-1];
    const perSubscriber = async (table: 'consent_events' | 'subscriber_mails') => {
      const counted = new Map<number, number>();
      // In slices: SQLite takes at most 32,766 bound values in one statement.
      for (let i = 0; i < ids.length; i += 10_000) {
        let query = db
          .selectFrom(table)
          .select('subscriber_id')
          .where('subscriber_id', 'in', ids.slice(i, i + 10_000));
        if (table === 'consent_events') query = query.where('kind', '=', 'signup');
        for (const r of await query.execute())
          counted.set(r.subscriber_id ?? 0, (counted.get(r.subscriber_id ?? 0) ?? 0) + 1);
      }
      return counted;
    };
    const events = await perSubscriber('consent_events');
    const mails = await perSubscriber('subscriber_mails');
    const stored = new Map<string, number>();
    for (const row of rows) stored.set(row.email, (stored.get(row.email) ?? 0) + 1);
    return {
      stored,
      withoutConsent: rows.filter((r) => events.get(r.id) !== 1).length,
      withoutOneMail: rows.filter((r) => mails.get(r.id) !== 1).length,
      notPending: rows.filter((r) => r.status !== 'pending').length,
      mails: await countSubscriberMailsByStatus(db),
    };
  } finally {
    await db.destroy();
  }
}

/** Polls the queue until no sign-up mail is waiting or in flight; resolves with the seconds it took. */
async function waitForMails(openDb: () => Db, timeoutMs = 600_000): Promise<number> {
  const db = openDb();
  const started = performance.now();
  try {
    for (;;) {
      const c = await countSubscriberMailsByStatus(db);
      if (c.queued + c.sending === 0) return (performance.now() - started) / 1000;
      if (performance.now() - started > timeoutMs)
        throw new Error(`sign-up mails still waiting after ${timeoutMs / 1000} s: ${JSON.stringify(c)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await db.destroy();
  }
}

async function main(): Promise<number> {
  const busyBefore = await cpuBusyShare(1000);
  const dataDir = makeTempDir('gazette-bench-signups-');
  const sink = values.mail === 'outbox' ? undefined : findExecutable('smtp-sink', ['/usr/sbin/smtp-sink']);
  let smtpUrl: string | undefined;
  let sinkChild: Child | undefined;
  if (sink) {
    const sinkPort = await freePort();
    // smtp-sink refuses to run as root without -u; it accepts and discards every message.
    sinkChild = startChild('smtp-sink', sink, [
      ...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []),
      '-4',
      `${host}:${sinkPort}`,
      '1024',
    ]);
    smtpUrl = `smtp://${host}:${sinkPort}`;
  } else {
    console.log('smtp-sink not found (apt-get install postfix): confirmation mails go to the outbox folder instead.');
  }
  const postgres = database === 'postgres' ? await createBenchPostgres('signups') : undefined;
  const openDb = () =>
    createDb(
      postgres
        ? { kind: 'postgres', url: postgres.url }
        : { kind: 'sqlite', file: path.join(dataDir, 'gazette.sqlite') },
    ).db;
  const port = await freePort();
  const env = gazetteEnv({
    DATA_DIR: dataDir,
    PORT: String(port),
    SIGNUP_LIMIT_PER_IP: values.limits ? '1000000000' : '0',
    SIGNUP_LIMIT_PER_ADDRESS: values.limits ? '5' : '0',
    ...(smtpUrl ? { SMTP_URL: smtpUrl, MAIL_FROM: 'The Judean <newsletter@bench.example>' } : {}),
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
  });
  let gazette = startGazette(env);
  let stopped = false;
  try {
    const base = `http://${host}:${port}`;
    await waitUntilAnswering(`${base}/`, gazette);
    const databaseLabel = database === 'postgres' ? 'PostgreSQL' : 'SQLite';
    console.log(
      `bench:signups — ${requests.toLocaleString('en')} sign-ups (after ${warmup.toLocaleString('en')} to warm up) over ${connections} keep-alive connections, ${databaseLabel}, mail to ${smtpUrl ? 'smtp-sink' : 'the outbox'}\n`,
    );
    const runId = Date.now().toString(36);
    const warm = await postAll(
      `${base}/newsletter/subscribe`,
      Array.from({ length: warmup }, (_, i) => `warm${i}.${runId}@bench.example`),
    );
    await waitForMails(openDb);

    // 1. The rate: sign-ups answered per second; then how long until every confirmation mail was accepted.
    const timed = await postAll(
      `${base}/newsletter/subscribe`,
      Array.from({ length: requests }, (_, i) => `signup${i}.${runId}@bench.example`),
    );
    const drainS = await waitForMails(openDb);
    console.log(
      `  Gazette: ${statusSummary(timed.statuses)} in ${timed.seconds.toFixed(2)} s; the last confirmation mail accepted ${drainS.toFixed(1)} s after the last answer`,
    );

    // 2. A crash, not a shutdown: SIGKILL the moment the last of another batch is answered, with mails in flight.
    const crashCount = Math.max(1000, Math.round(requests / 4));
    const crash = await postAll(
      `${base}/newsletter/subscribe`,
      Array.from({ length: crashCount }, (_, i) => `crash${i}.${runId}@bench.example`),
    );
    gazette.process.kill('SIGKILL');
    await gazette.exited;
    const afterCrash = await readBack(openDb, runId);
    // 3. A restart on the same data: the mails the crash left behind go out.
    gazette = startGazette(env);
    const restartedAt = performance.now();
    await waitUntilAnswering(`${base}/`, gazette);
    await waitForMails(openDb);
    const afterRestartS = (performance.now() - restartedAt) / 1000;
    const final = await readBack(openDb, runId);
    await stopChild(gazette);
    stopped = true;

    const answered = [...warm.statuses, ...timed.statuses, ...crash.statuses];
    const acceptedEmails = answered.filter(([, st]) => accepted(st)).map(([e]) => e);
    const missing = acceptedEmails.filter((e) => !afterCrash.stored.has(e));
    const duplicated = [...afterCrash.stored.values()].filter((n) => n > 1).length;

    // The ceiling: the same client, the same number of POSTs, a bare node:http server answering the same page.
    const pageFile = path.join(dataDir, 'check-inbox.html');
    writeFileSync(pageFile, '<!doctype html><title>Check your inbox</title><p>Check your inbox.</p>');
    const ceilingPort = await freePort();
    const ceilingServer = startChild('node:http server', process.execPath, [
      path.join(rootDir, 'bench/site-static-server.ts'),
      '--file',
      pageFile,
      '--port',
      String(ceilingPort),
      '--host',
      host,
    ]);
    let ceiling: RunResult;
    try {
      await waitUntilAnswering(`http://${host}:${ceilingPort}/`, ceilingServer);
      await postAll(
        `http://${host}:${ceilingPort}/newsletter/subscribe`,
        Array.from({ length: warmup }, (_, i) => `warm${i}@bench.example`),
      );
      ceiling = await postAll(
        `http://${host}:${ceilingPort}/newsletter/subscribe`,
        Array.from({ length: requests }, (_, i) => `signup${i}@bench.example`),
      );
    } finally {
      await stopChild(ceilingServer);
    }
    console.log(`  node:http: ${statusSummary(ceiling.statuses)} in ${ceiling.seconds.toFixed(2)} s`);

    const acceptedInRun = [...timed.statuses.values()].filter(accepted).length;
    const rate = acceptedInRun / timed.seconds;
    const withMail = acceptedInRun / (timed.seconds + drainS);
    const ceilingRate = requests / ceiling.seconds;
    const nothingLost =
      missing.length === 0 && duplicated === 0 && afterCrash.withoutConsent === 0 && afterCrash.withoutOneMail === 0;
    const everyMailSent =
      final.mails.sent === acceptedEmails.length && final.mails.failed === 0 && final.withoutOneMail === 0;
    console.log('\n| run | POSTs | seconds | per second |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(
      `| Gazette sign-ups answered (${databaseLabel}, ${connections} connections) | ${requests.toLocaleString('en')} | ${timed.seconds.toFixed(2)} | ${Math.round(rate).toLocaleString('en')} (${Math.round((rate / ceilingRate) * 100)}% of the ceiling) |`,
    );
    console.log(
      `| … until the last confirmation mail was accepted by smtp-sink | ${requests.toLocaleString('en')} | ${(timed.seconds + drainS).toFixed(2)} | ${Math.round(withMail).toLocaleString('en')} |`,
    );
    console.log(
      `| bare node:http handler (ceiling) | ${requests.toLocaleString('en')} | ${ceiling.seconds.toFixed(2)} | ${Math.round(ceilingRate).toLocaleString('en')} |`,
    );
    console.log(
      `\nAfter SIGKILL at the last answer of ${crashCount.toLocaleString('en')} more sign-ups, in the database:`,
    );
    console.log(
      `  ${acceptedEmails.length.toLocaleString('en')} sign-ups answered 2xx/303 (warm-up included); ${afterCrash.stored.size.toLocaleString('en')} subscribers stored, all pending: ${afterCrash.notPending === 0 ? 'yes' : `no (${afterCrash.notPending})`}`,
    );
    console.log(
      `  missing ${missing.length}, duplicated ${duplicated}, without exactly one signup consent event ${afterCrash.withoutConsent}, without exactly one queued mail ${afterCrash.withoutOneMail}`,
    );
    console.log(
      `  confirmation mails at the crash: ${afterCrash.mails.sent.toLocaleString('en')} sent, ${(afterCrash.mails.queued + afterCrash.mails.sending).toLocaleString('en')} waiting or in flight`,
    );
    console.log(
      `  after a restart: all ${final.mails.sent.toLocaleString('en')} sent ${afterRestartS.toFixed(1)} s after the new process started (failed ${final.mails.failed})`,
    );
    if (missing.length > 0) console.log(`  e.g. missing: ${missing.slice(0, 5).join(', ')}`);
    console.log('\nTargets:');
    console.log(
      `  ≥ ${target.signupsPerSecond.toLocaleString('en')} sign-ups/s: ${rate >= target.signupsPerSecond ? 'MET' : 'NOT MET'} (${Math.round(rate).toLocaleString('en')}/s answered; ${Math.round(withMail).toLocaleString('en')}/s counting until the last confirmation mail left)`,
    );
    console.log(
      `  every accepted sign-up present, none duplicated, its mail on record: ${nothingLost ? 'MET' : 'NOT MET'}`,
    );
    console.log(`  every confirmation mail sent after the crash and restart: ${everyMailSent ? 'MET' : 'NOT MET'}`);
    console.log(`\nMachine: ${machineLine()}; the client runs in this process on the same machine.`);
    const busy = Math.round(busyBefore * 100);
    console.log(
      `CPU busy with other work in the second before the run: ${busy}%${busy > 10 ? ' — figures may be low and noisy' : ''}`,
    );
    console.log(
      `Command: npm run bench:signups -- --requests ${requests} --warmup ${warmup} --connections ${connections}${database === 'postgres' ? ' --database postgres' : ''}`,
    );
    return nothingLost && everyMailSent ? 0 : 1;
  } finally {
    if (!stopped) await stopChild(gazette);
    if (sinkChild) await stopChild(sinkChild);
    await postgres?.drop();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  process.exitCode = 1;
  console.error(`bench:signups: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  cleanUpSync();
}
