// `npm run bench:signups [-- --requests 20000 --connections 64 --database sqlite|postgres]`
//
// Newsletter sign-ups per second, nothing lost. A real `gazette serve` (fresh demo site, SQLite by default,
// sign-up rate limits lifted with SIGNUP_LIMIT_PER_IP=0 and SIGNUP_LIMIT_PER_ADDRESS=0, confirmation mails
// to Postfix's smtp-sink on loopback) takes concurrent POSTs of the real sign-up form, each with a new
// address, over keep-alive connections. Then the server is killed with SIGKILL — a crash, no graceful
// shutdown — and the database is read: every sign-up that was answered 2xx/303 must be there, once, with its
// consent record. The ceiling, measured in the same run with the same client: the same number of POSTs to a
// bare node:http server answering each with the same page.
import { Agent, request as httpRequest } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDb } from '../src/db/index.ts';
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
  },
  strict: true,
});
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
const database = values.database;
if (![requests, warmup, connections].every((n) => Number.isInteger(n) && n >= 0) || connections < 1 || (database !== 'sqlite' && database !== 'postgres')) {
  console.error('Usage: npm run bench:signups -- [--requests N] [--warmup N] [--connections N] [--database sqlite|postgres]');
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
      const body = new URLSearchParams({ email, consent: 'yes', source: '/articles/blinken-meets-herzog-ceasefire-push' }).toString();
      const req = httpRequest(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
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
  return [...counts.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${n.toLocaleString('en')} × ${s === 0 ? 'no answer' : s}`).join(', ');
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
    sinkChild = startChild('smtp-sink', sink, [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), '-4', `${host}:${sinkPort}`, '1024']);
    smtpUrl = `smtp://${host}:${sinkPort}`;
  } else {
    console.log('smtp-sink not found (apt-get install postfix): confirmation mails go to the outbox folder instead.');
  }
  const postgres = database === 'postgres' ? await createBenchPostgres('signups') : undefined;
  const port = await freePort();
  const env = gazetteEnv({
    DATA_DIR: dataDir,
    PORT: String(port),
    SIGNUP_LIMIT_PER_IP: '0',
    SIGNUP_LIMIT_PER_ADDRESS: '0',
    ...(smtpUrl ? { SMTP_URL: smtpUrl, MAIL_FROM: 'The Judean <newsletter@bench.example>' } : {}),
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
  });
  const gazette = startGazette(env);
  let gazetteRun: RunResult | undefined;
  let killed = false;
  try {
    const base = `http://${host}:${port}`;
    await waitUntilAnswering(`${base}/`, gazette);
    console.log(`bench:signups — ${requests.toLocaleString('en')} sign-ups (after ${warmup.toLocaleString('en')} to warm up) over ${connections} keep-alive connections, ${database === 'postgres' ? 'PostgreSQL' : 'SQLite'}, mail to ${smtpUrl ? 'smtp-sink' : 'the outbox'}\n`);
    const runId = Date.now().toString(36);
    const warm = await postAll(`${base}/newsletter/subscribe`, Array.from({ length: warmup }, (_, i) => `warm${i}.${runId}@bench.example`));
    gazetteRun = await postAll(`${base}/newsletter/subscribe`, Array.from({ length: requests }, (_, i) => `signup${i}.${runId}@bench.example`));
    console.log(`  Gazette: ${statusSummary(gazetteRun.statuses)} in ${gazetteRun.seconds.toFixed(2)} s`);

    // A crash, not a shutdown: whatever was answered 2xx must already be durable.
    gazette.process.kill('SIGKILL');
    await gazette.exited;
    killed = true;

    const { db } = createDb(postgres ? { kind: 'postgres', url: postgres.url } : { kind: 'sqlite', file: path.join(dataDir, 'gazette.sqlite') });
    const rows = await db.selectFrom('subscribers').select(['id', 'email', 'status']).where('email', 'like', `%.${runId}@bench.example`).execute();
    const events = await db
      .selectFrom('consent_events')
      .select(['subscriber_id'])
      .where('kind', '=', 'signup')
      .where('subscriber_id', 'in', rows.length > 0 ? rows.map((r) => r.id) : [-1])
      .execute();
    await db.destroy();
    const stored = new Map<string, number>();
    for (const row of rows) stored.set(row.email, (stored.get(row.email) ?? 0) + 1);
    const eventsPer = new Map<number, number>();
    for (const e of events) eventsPer.set(e.subscriber_id ?? 0, (eventsPer.get(e.subscriber_id ?? 0) ?? 0) + 1);
    const answered = [...warm.statuses, ...gazetteRun.statuses];
    const acceptedEmails = answered.filter(([, s]) => accepted(s)).map(([e]) => e);
    const missing = acceptedEmails.filter((e) => !stored.has(e));
    const duplicated = [...stored.values()].filter((n) => n > 1).length;
    const withoutConsent = rows.filter((r) => eventsPer.get(r.id) !== 1).length;
    const notPending = rows.filter((r) => r.status !== 'pending').length;

    // The ceiling: the same client, the same number of POSTs, a bare node:http server answering the same page.
    const pageFile = path.join(dataDir, 'check-inbox.html');
    writeFileSync(pageFile, '<!doctype html><title>Check your inbox</title><p>Check your inbox.</p>');
    const ceilingPort = await freePort();
    const ceilingServer = startChild('node:http server', process.execPath, [path.join(rootDir, 'bench/site-static-server.ts'), '--file', pageFile, '--port', String(ceilingPort), '--host', host]);
    let ceiling: RunResult;
    try {
      await waitUntilAnswering(`http://${host}:${ceilingPort}/`, ceilingServer);
      await postAll(`http://${host}:${ceilingPort}/newsletter/subscribe`, Array.from({ length: warmup }, (_, i) => `warm${i}@bench.example`));
      ceiling = await postAll(`http://${host}:${ceilingPort}/newsletter/subscribe`, Array.from({ length: requests }, (_, i) => `signup${i}@bench.example`));
    } finally {
      await stopChild(ceilingServer);
    }
    console.log(`  node:http: ${statusSummary(ceiling.statuses)} in ${ceiling.seconds.toFixed(2)} s`);

    const acceptedInRun = [...gazetteRun.statuses.values()].filter(accepted).length;
    const rate = acceptedInRun / gazetteRun.seconds;
    const ceilingRate = requests / ceiling.seconds;
    const nothingLost = missing.length === 0 && duplicated === 0 && withoutConsent === 0;
    console.log('\n| run | POSTs | seconds | accepted/s |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| Gazette sign-up (${database === 'postgres' ? 'PostgreSQL' : 'SQLite'}, ${connections} connections) | ${requests.toLocaleString('en')} | ${gazetteRun.seconds.toFixed(2)} | ${Math.round(rate).toLocaleString('en')} (${Math.round((rate / ceilingRate) * 100)}% of the ceiling) |`);
    console.log(`| bare node:http handler (ceiling) | ${requests.toLocaleString('en')} | ${ceiling.seconds.toFixed(2)} | ${Math.round(ceilingRate).toLocaleString('en')} |`);
    console.log('\nAfter SIGKILL, in the database:');
    console.log(`  ${acceptedEmails.length.toLocaleString('en')} sign-ups answered 2xx/303 (warm-up included); ${rows.length.toLocaleString('en')} subscribers stored, all pending: ${notPending === 0 ? 'yes' : `no (${notPending})`}`);
    console.log(`  missing ${missing.length}, duplicated ${duplicated}, without exactly one signup consent event ${withoutConsent}`);
    if (missing.length > 0) console.log(`  e.g. missing: ${missing.slice(0, 5).join(', ')}`);
    console.log('\nTargets:');
    console.log(`  ≥ ${target.signupsPerSecond.toLocaleString('en')} sign-ups/s: ${rate >= target.signupsPerSecond ? 'MET' : 'NOT MET'} (${Math.round(rate).toLocaleString('en')}/s)`);
    console.log(`  every accepted sign-up present, none duplicated: ${nothingLost ? 'MET' : 'NOT MET'}`);
    console.log(`\nMachine: ${machineLine()}; the client runs in this process on the same machine.`);
    const busy = Math.round(busyBefore * 100);
    console.log(`CPU busy with other work in the second before the run: ${busy}%${busy > 10 ? ' — figures may be low and noisy' : ''}`);
    console.log(`Command: npm run bench:signups -- --requests ${requests} --warmup ${warmup} --connections ${connections}${database === 'postgres' ? ' --database postgres' : ''}`);
    return nothingLost ? 0 : 1;
  } finally {
    if (!killed) await stopChild(gazette);
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
