// `npm run bench:newsletter [-- --subscribers 100000 --concurrency 32 --ceiling-messages 30000 --database sqlite|postgres]`
// (`--batch-size N` and `--record-group-ms N` override the worker's defaults, to try other settings)
//
// How fast does Gazette deliver a newsletter issue next to the ceiling of this machine? Every run goes to
// the same Postfix `smtp-sink` on loopback: (1) `smtp-source` pushing messages of the SAME size as one of
// Gazette's (measured by rendering one recipient's copy of the issue, as the worker does) as fast as it can:
// the ceiling the share is computed against; (2) `smtp-source` with 30 KB messages, for reference (earlier
// figures used that); then (3) Gazette sending the ~30 KB-of-HTML issue (HTML and plain-text parts,
// quoted-printable), personalised per recipient, to N confirmed subscribers with the queue durable in
// SQLite, or with `--database postgres` in a throw-away PostgreSQL database at 127.0.0.1:5432 (queue,
// claim, send, record each outcome).
//
// It also prints where the CPU went during each run: seconds used by Gazette (this process), by
// PostgreSQL (its backends and background processes), by smtp-sink and smtp-source (utime + stime from
// /proc/<pid>/stat), and by the whole machine (/proc/stat), so a reader can see whether the sink, the
// database or Gazette is the limit on this machine's cores.
// Needs Postfix's tools: apt-get install -y postfix (smtp-sink and smtp-source in /usr/sbin).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createDb } from '../src/db/index.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createMailTransport } from '../src/modules/mail/mail.transport.ts';
import {
  createDeliveryWorker,
  prepareIssueMime,
  renderRecipientMessage,
} from '../src/modules/newsletters/delivery.worker.ts';
import { prepareTemplate } from '../src/modules/newsletters/newsletters.compose.ts';
import { createRecipientLinks, listIdFor } from '../src/modules/newsletters/newsletters.links.ts';
import { countDeliveriesByStatus, findIssue } from '../src/modules/newsletters/newsletters.repository.ts';
import { queueIssue } from '../src/modules/newsletters/newsletters.service.ts';
import { emailHash as keyedEmailHash } from '../src/modules/subscribers/subscribers.tokens.ts';
import { benchSubscriberEmail, generateSubscribers } from './generate.ts';
import { createBenchPostgres, freePort, machineLine } from './harness.ts';
import { composeBenchIssue, createBenchIssue } from './newsletter-data.ts';
import { CpuAccount, machineCpuSeconds, processCpuSeconds } from './process-cpu.ts';

const target = { messagesPerSecond: 4000, shareOfCeiling: 0.5 } as const;
const sinkBin = '/usr/sbin/smtp-sink';
const sourceBin = '/usr/sbin/smtp-source';
const host = '127.0.0.1';
const siteUrl = 'https://news.bench.example';
const mailFrom = 'The Bench Gazette <newsletter@news.bench.example>';
const messageIdDomain = 'news.bench.example';
const secret = 'b'.repeat(43);
const emailHash = (emailKey: string) => keyedEmailHash(secret, emailKey);

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '32' },
    'ceiling-messages': { type: 'string', default: '30000' },
    database: { type: 'string', default: 'sqlite' },
    'batch-size': { type: 'string' },
    'record-group-ms': { type: 'string' },
  },
});
const tuning = {
  ...(values['batch-size'] ? { batchSize: Number(values['batch-size']) } : {}),
  ...(values['record-group-ms'] ? { recordGroupMs: Number(values['record-group-ms']) } : {}),
};
if (values.database !== 'sqlite' && values.database !== 'postgres')
  throw new Error(`--database must be sqlite or postgres, not ${values.database}`);
const database = values.database;
const databaseLabel = database === 'postgres' ? 'PostgreSQL' : 'SQLite';
const subscribers = Number(values.subscribers);
const concurrency = Number(values.concurrency);
const ceilingMessages = Number(values['ceiling-messages']);

const children: ChildProcess[] = [];
const cleanup = () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

/** The size of a typical recipient's message, rendered by the worker's own code (headers included). */
function gazetteMessageBytes(): number {
  const mime = prepareIssueMime(prepareTemplate(composeBenchIssue(siteUrl)));
  const id = Math.max(1, Math.round(subscribers / 2));
  const links = createRecipientLinks({ siteUrl, mailFrom, secret })(id);
  const chunks = renderRecipientMessage(mime, {
    from: mailFrom,
    to: benchSubscriberEmail(id),
    messageId: `<gazette.1.${id}@${messageIdDomain}>`,
    date: new Date(),
    listId: listIdFor(siteUrl),
    links,
  });
  return chunks.reduce((sum, chunk) => sum + chunk.length, 0);
}

interface CpuSplit {
  seconds: number;
  machineBusy: number;
  machineTotal: number;
  parts: [string, number][];
}

/** A run of smtp-source into the sink: messages per second, and the CPU the two used. */
async function runSmtpSource(
  port: number,
  sinkPid: number,
  payloadBytes: number,
): Promise<{ rate: number; cpu: CpuSplit }> {
  const machineStart = machineCpuSeconds();
  const sinkStart = processCpuSeconds(sinkPid) ?? 0;
  const start = process.hrtime.bigint();
  let sourceCpu = 0;
  await new Promise<void>((resolve, reject) => {
    const source = spawn(
      sourceBin,
      [
        '-4',
        '-d',
        '-s',
        String(concurrency),
        '-l',
        String(payloadBytes),
        '-m',
        String(ceilingMessages),
        '-f',
        'bench@bench.example',
        '-t',
        'reader@bench.example',
        `${host}:${port}`,
      ],
      { stdio: 'inherit' },
    );
    children.push(source);
    // Read just before it exits is impossible from outside; sample it while it runs (every 50 ms).
    const timer = setInterval(() => (sourceCpu = processCpuSeconds(source.pid ?? -1) ?? sourceCpu), 50);
    source.once('exit', (code) => {
      clearInterval(timer);
      if (code === 0) resolve();
      else reject(new Error(`smtp-source exited with ${code}`));
    });
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const machineEnd = machineCpuSeconds();
  return {
    rate: ceilingMessages / seconds,
    cpu: {
      seconds,
      machineBusy: machineEnd.busy - machineStart.busy,
      machineTotal: machineEnd.total - machineStart.total,
      parts: [
        ['smtp-sink', (processCpuSeconds(sinkPid) ?? 0) - sinkStart],
        ['smtp-source (at least; sampled every 50 ms)', sourceCpu],
      ],
    },
  };
}

/** The PostgreSQL server's processes that work for this run: our database's backends and the background ones. */
async function postgresPids(admin: pg.Client, databaseName: string): Promise<number[]> {
  const result = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 OR backend_type <> 'client backend'`,
    [databaseName],
  );
  return result.rows.map((r) => r.pid);
}

function printCpu(title: string, cpu: CpuSplit, messages: number): void {
  const perMessage = (s: number) => `${Math.round((s * 1e6) / Math.max(1, messages)).toLocaleString('en')} µs`;
  const named = cpu.parts.reduce((sum, [, s]) => sum + s, 0);
  console.log('');
  console.log(
    `CPU during ${title} (${cpu.seconds.toFixed(1)} s × ${availableParallelism()} cores = ${cpu.machineTotal.toFixed(1)} CPU-seconds available):`,
  );
  console.log('| process | CPU-seconds | share of the cores | per message |');
  console.log('| --- | ---: | ---: | ---: |');
  const row = (name: string, s: number) =>
    console.log(
      `| ${name} | ${s.toFixed(1)} | ${((100 * s) / Math.max(1e-9, cpu.machineTotal)).toFixed(0)}% | ${perMessage(s)} |`,
    );
  for (const [name, s] of cpu.parts) row(name, s);
  row('everything else (kernel work not charged to these, other processes)', Math.max(0, cpu.machineBusy - named));
  row('idle', Math.max(0, cpu.machineTotal - cpu.machineBusy));
}

async function main(): Promise<void> {
  for (const bin of [sinkBin, sourceBin]) {
    try {
      accessSync(bin);
    } catch {
      throw new Error(
        `${bin} is missing: DEBIAN_FRONTEND=noninteractive apt-get install -y postfix (and keep its daemon stopped).`,
      );
    }
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'gazette-bench-newsletter-'));
  let dropPostgres: (() => Promise<void>) | undefined;
  let admin: pg.Client | undefined;
  const port = await freePort();
  // smtp-sink refuses to run as root without -u; it accepts and discards every message.
  const sink = spawn(
    sinkBin,
    [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), '-4', `${host}:${port}`, '4096'],
    { stdio: 'ignore' },
  );
  children.push(sink);
  const sinkPid = sink.pid ?? -1;
  await new Promise((resolve) => setTimeout(resolve, 300));

  try {
    // 1. The ceilings: smtp-source, as many sessions as our concurrency, one connection each; first with
    //    messages the size of Gazette's (the fair ceiling), then 30 KB ones for reference.
    const messageBytes = gazetteMessageBytes();
    const sameSize = await runSmtpSource(port, sinkPid, messageBytes);
    const thirtyKb = await runSmtpSource(port, sinkPid, 30 * 1024);

    // 2. Gazette: subscribers, one issue, queue, then one worker sends it all.
    const postgres = database === 'postgres' ? await createBenchPostgres('newsletter') : undefined;
    dropPostgres = postgres?.drop;
    const { db } = createDb(
      postgres ? { kind: 'postgres', url: postgres.url } : { kind: 'sqlite', file: path.join(dir, 'bench.sqlite') },
    );
    await migrateToLatest(db);
    let t = performance.now();
    await generateSubscribers(db, subscribers);
    const generateMs = performance.now() - t;
    const issue = await createBenchIssue(db, siteUrl);
    t = performance.now();
    const recipients = await queueIssue(db, { siteUrl, emailHash }, issue.id);
    const queueMs = performance.now() - t;

    const transport = await createMailTransport({
      mail: { smtpUrl: `smtp://${host}:${port}`, from: mailFrom, dkim: null, concurrency, ratePerSecond: 0 },
      dataDir: dir,
    });
    const worker = createDeliveryWorker({
      db,
      transport,
      links: createRecipientLinks({ siteUrl, mailFrom, secret }),
      emailHash,
      listId: listIdFor(siteUrl),
      messageIdDomain,
      secret,
      concurrency,
      ratePerSecond: 0,
      options: { pollMs: 20, ...tuning },
    });
    // PostgreSQL's processes are listed through a connection of our own to another database, so its
    // backend is not counted.
    const postgresCpu = new CpuAccount();
    const databaseName = postgres ? new URL(postgres.url).pathname.slice(1) : '';
    if (postgres) {
      const adminUrl = new URL(postgres.url);
      adminUrl.pathname = '/postgres';
      admin = new pg.Client({ connectionString: adminUrl.toString() });
      await admin.connect();
      postgresCpu.start(await postgresPids(admin, databaseName));
    }
    const machineStart = machineCpuSeconds();
    const sinkStart = processCpuSeconds(sinkPid) ?? 0;
    const sendStart = performance.now();
    const cpuStart = process.cpuUsage();
    worker.start();
    let last = performance.now();
    while ((await findIssue(db, issue.id))?.status !== 'sent') {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (admin) postgresCpu.sample(await postgresPids(admin, databaseName));
      if (performance.now() - last > 5000) {
        last = performance.now();
        const c = await countDeliveriesByStatus(db, issue.id);
        process.stderr.write(`  … ${c.sent} sent, ${c.queued + c.sending} to go\n`);
      }
    }
    const sendS = (performance.now() - sendStart) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const sinkSeconds = (processCpuSeconds(sinkPid) ?? 0) - sinkStart;
    if (admin) postgresCpu.sample(await postgresPids(admin, databaseName));
    const machineEnd = machineCpuSeconds();
    await worker.stop();
    transport.close();
    const counts = await countDeliveriesByStatus(db, issue.id);
    await db.destroy();
    const rate = counts.sent / sendS;

    const share = rate / sameSize.rate;
    const gazetteSeconds = (cpu.user + cpu.system) / 1e6;
    const fmt = (n: number) => Math.round(n).toLocaleString('en');
    console.log('');
    console.log(`Machine: ${machineLine()} (${availableParallelism()} CPUs: ${cpus()[0]?.model ?? 'unknown'})`);
    console.log(
      `Subscribers: ${subscribers.toLocaleString('en')} generated in ${(generateMs / 1000).toFixed(1)} s; queued ${recipients.toLocaleString('en')} in ${(queueMs / 1000).toFixed(2)} s`,
    );
    console.log(
      `Issue: ${issue.htmlBytes.toLocaleString('en')} bytes of HTML; one recipient's message is ${messageBytes.toLocaleString('en')} bytes (HTML and text parts, quoted-printable, headers); concurrency ${concurrency}; queue in ${databaseLabel}`,
    );
    console.log('');
    console.log('| run | messages | seconds | messages/s |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(
      `| smtp-source, ${messageBytes.toLocaleString('en')}-byte messages (Gazette's size), ${concurrency} sessions: the ceiling | ${ceilingMessages.toLocaleString('en')} | ${sameSize.cpu.seconds.toFixed(1)} | ${fmt(sameSize.rate)} |`,
    );
    console.log(
      `| smtp-source, 30 KB messages, ${concurrency} sessions (for reference) | ${ceilingMessages.toLocaleString('en')} | ${thirtyKb.cpu.seconds.toFixed(1)} | ${fmt(thirtyKb.rate)} |`,
    );
    console.log(
      `| Gazette newsletter send (${databaseLabel}) | ${counts.sent.toLocaleString('en')} | ${sendS.toFixed(1)} | ${fmt(rate)} |`,
    );
    printCpu(`the same-size smtp-source run`, sameSize.cpu, ceilingMessages);
    printCpu(
      `the Gazette send`,
      {
        seconds: sendS,
        machineBusy: machineEnd.busy - machineStart.busy,
        machineTotal: machineEnd.total - machineStart.total,
        parts: [
          [
            `Gazette (user ${(cpu.user / 1e6).toFixed(1)} s, system ${(cpu.system / 1e6).toFixed(1)} s)`,
            gazetteSeconds,
          ],
          ...(postgres
            ? [
                [
                  `PostgreSQL (${postgresCpu.processes()} processes: backends, WAL writer, checkpointer)`,
                  postgresCpu.seconds(),
                ] as [string, number],
              ]
            : []),
          ['smtp-sink', sinkSeconds],
        ],
      },
      counts.sent,
    );
    const cpuPerMessageUs = (gazetteSeconds * 1e6) / Math.max(1, counts.sent);
    const sinkPerMessageUs = (sinkSeconds * 1e6) / Math.max(1, counts.sent);
    console.log('');
    // Other load on the machine lowers both rates; CPU time per message is the figure it does not move much.
    console.log(
      `Gazette's CPU per message: ${cpuPerMessageUs.toFixed(0)} µs: one core's worth is ${fmt(1e6 / cpuPerMessageUs)} messages/s`,
    );
    console.log(
      `smtp-sink's CPU per message: ${sinkPerMessageUs.toFixed(0)} µs during the send: one core's worth is ${fmt(1e6 / sinkPerMessageUs)} messages/s; in the same-size ceiling run it used ${(((sameSize.cpu.parts[0]?.[1] ?? 0) * 100) / sameSize.cpu.seconds).toFixed(0)}% of a core`,
    );
    console.log(
      `Load average after the run: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      `Share of the same-size ceiling: ${(share * 100).toFixed(0)}% (target ≥ ${target.shareOfCeiling * 100}%): ${share >= target.shareOfCeiling ? 'met' : 'NOT met'}; of the 30 KB one: ${((rate / thirtyKb.rate) * 100).toFixed(0)}%`,
    );
    console.log(
      `Absolute: ${fmt(rate)}/s (target ≥ ${fmt(target.messagesPerSecond)}/s on a 2-core machine): ${rate >= target.messagesPerSecond ? 'met' : 'NOT met'}`,
    );
    if (sameSize.rate < target.messagesPerSecond) {
      console.log(
        `  On this machine smtp-sink itself receives only ${fmt(sameSize.rate)} messages/s of this size from smtp-source, so ${fmt(target.messagesPerSecond)}/s is above what it can receive at all.`,
      );
    }
    if (counts.failed > 0 || counts.queued > 0)
      console.log(`Warning: ${counts.failed} failed, ${counts.queued} left queued.`);
    const tuned = Object.entries(tuning)
      .map(([k, v]) => ` --${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${v}`)
      .join('');
    console.log(
      `Command: npm run bench:newsletter -- --subscribers ${subscribers} --concurrency ${concurrency} --ceiling-messages ${ceilingMessages}${database === 'postgres' ? ' --database postgres' : ''}${tuned}`,
    );
  } finally {
    cleanup();
    await admin?.end();
    await dropPostgres?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
