// `npm run bench:newsletter [-- --subscribers 100000 --concurrency 32 --ceiling-messages 30000 --database sqlite|postgres]`
//
// How fast does Gazette deliver a newsletter issue next to the ceiling of this machine? Both runs go to
// the same Postfix `smtp-sink` on loopback: (1) `smtp-source` pushing 30 KB messages as fast as it can
// (the ceiling), then (2) Gazette sending one ~30 KB issue, personalised per recipient, to 100,000
// confirmed subscribers with the queue durable in SQLite, or with `--database postgres` in a throw-away
// PostgreSQL database at 127.0.0.1:5432 (queue, claim, send, record each outcome).
// Needs Postfix's tools: apt-get install -y postfix (smtp-sink and smtp-source in /usr/sbin).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDb } from '../src/db/index.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createMailTransport } from '../src/modules/mail/mail.transport.ts';
import { createDeliveryWorker } from '../src/modules/newsletters/delivery.worker.ts';
import { createRecipientLinks, listIdFor } from '../src/modules/newsletters/newsletters.links.ts';
import { countDeliveriesByStatus, findIssue } from '../src/modules/newsletters/newsletters.repository.ts';
import { queueIssue } from '../src/modules/newsletters/newsletters.service.ts';
import { emailHash } from '../src/modules/subscribers/subscribers.tokens.ts';
import { generateSubscribers } from './generate.ts';
import { createBenchPostgres, freePort } from './harness.ts';
import { createBenchIssue } from './newsletter-data.ts';

const target = { messagesPerSecond: 4000, shareOfCeiling: 0.5 } as const;
const sinkBin = '/usr/sbin/smtp-sink';
const sourceBin = '/usr/sbin/smtp-source';
const host = '127.0.0.1';
const siteUrl = 'https://news.bench.example';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '32' },
    'ceiling-messages': { type: 'string', default: '30000' },
    database: { type: 'string', default: 'sqlite' },
  },
});
if (values.database !== 'sqlite' && values.database !== 'postgres') throw new Error(`--database must be sqlite or postgres, not ${values.database}`);
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


async function main(): Promise<void> {
  for (const bin of [sinkBin, sourceBin]) {
    try {
      accessSync(bin);
    } catch {
      throw new Error(`${bin} is missing: DEBIAN_FRONTEND=noninteractive apt-get install -y postfix (and keep its daemon stopped).`);
    }
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'gazette-bench-newsletter-'));
  let dropPostgres: (() => Promise<void>) | undefined;
  const port = await freePort();
  // smtp-sink refuses to run as root without -u; it accepts and discards every message.
  const sink = spawn(sinkBin, [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), '-4', `${host}:${port}`, '4096'], { stdio: 'ignore' });
  children.push(sink);
  await new Promise((resolve) => setTimeout(resolve, 300));

  try {
    // 1. The ceiling: smtp-source, 30 KB messages, as many sessions as our concurrency, one connection each.
    const ceilingStart = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const source = spawn(sourceBin, ['-4', '-d', '-s', String(concurrency), '-l', String(30 * 1024), '-m', String(ceilingMessages), '-f', 'bench@bench.example', '-t', 'reader@bench.example', `${host}:${port}`], { stdio: 'inherit' });
      children.push(source);
      source.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`smtp-source exited with ${code}`))));
    });
    const ceilingRate = ceilingMessages / (Number(process.hrtime.bigint() - ceilingStart) / 1e9);

    // 2. Gazette: subscribers, one issue, queue, then one worker sends it all.
    const postgres = database === 'postgres' ? await createBenchPostgres('newsletter') : undefined;
    dropPostgres = postgres?.drop;
    const { db } = createDb(postgres ? { kind: 'postgres', url: postgres.url } : { kind: 'sqlite', file: path.join(dir, 'bench.sqlite') });
    await migrateToLatest(db);
    let t = performance.now();
    await generateSubscribers(db, subscribers);
    const generateMs = performance.now() - t;
    const issue = await createBenchIssue(db, siteUrl);
    t = performance.now();
    const recipients = await queueIssue(db, { siteUrl, emailHash }, issue.id);
    const queueMs = performance.now() - t;

    const transport = await createMailTransport({ mail: { smtpUrl: `smtp://${host}:${port}`, from: 'The Bench Gazette <newsletter@news.bench.example>', dkim: null, concurrency, ratePerSecond: 0 }, dataDir: dir });
    const worker = createDeliveryWorker({
      db,
      transport,
      links: createRecipientLinks({ siteUrl, mailFrom: 'newsletter@news.bench.example', secret: 'b'.repeat(43) }),
      emailHash,
      listId: listIdFor(siteUrl),
      messageIdDomain: 'news.bench.example',
      concurrency,
      ratePerSecond: 0,
      options: { pollMs: 20 },
    });
    const sendStart = performance.now();
    const cpuStart = process.cpuUsage();
    worker.start();
    let last = 0;
    while ((await findIssue(db, issue.id))?.status !== 'sent') {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const c = await countDeliveriesByStatus(db, issue.id);
      if (performance.now() - last > 5000) {
        last = performance.now();
        process.stderr.write(`  … ${c.sent} sent, ${c.queued + c.sending} to go\n`);
      }
    }
    const sendS = (performance.now() - sendStart) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    await worker.stop();
    transport.close();
    const counts = await countDeliveriesByStatus(db, issue.id);
    await db.destroy();
    const rate = counts.sent / sendS;

    const share = rate / ceilingRate;
    console.log('');
    console.log(`Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`);
    console.log(`Subscribers: ${subscribers.toLocaleString('en')} generated in ${(generateMs / 1000).toFixed(1)} s; queued ${recipients.toLocaleString('en')} in ${(queueMs / 1000).toFixed(2)} s`);
    console.log(`Issue: ${issue.htmlBytes.toLocaleString('en')} bytes of HTML, personalised per recipient; concurrency ${concurrency}; queue in ${databaseLabel}`);
    console.log('');
    console.log('| run | messages | seconds | messages/s |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| smtp-source, 30 KB, ${concurrency} sessions (ceiling) | ${ceilingMessages.toLocaleString('en')} | ${(ceilingMessages / ceilingRate).toFixed(1)} | ${Math.round(ceilingRate).toLocaleString('en')} |`);
    console.log(`| Gazette newsletter send (${databaseLabel}) | ${counts.sent.toLocaleString('en')} | ${sendS.toFixed(1)} | ${Math.round(rate).toLocaleString('en')} |`);
    const cpuPerMessageUs = (cpu.user + cpu.system) / Math.max(1, counts.sent);
    console.log('');
    // Other load on the machine lowers both rates; CPU time per message is the figure it does not move much.
    console.log(`Gazette's CPU per message: ${cpuPerMessageUs.toFixed(0)} µs (user ${(cpu.user / 1e6).toFixed(1)} s, system ${(cpu.system / 1e6).toFixed(1)} s): one core's worth is ${Math.round(1e6 / cpuPerMessageUs).toLocaleString('en')} messages/s`);
    console.log(`Load average during the run: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`Share of the ceiling: ${(share * 100).toFixed(0)}% (target ≥ ${target.shareOfCeiling * 100}%): ${share >= target.shareOfCeiling ? 'met' : 'NOT met'}`);
    console.log(`Absolute: ${Math.round(rate)}/s (target ≥ ${target.messagesPerSecond}/s on a 2-core machine): ${rate >= target.messagesPerSecond ? 'met' : 'NOT met'}`);
    if (counts.failed > 0 || counts.queued > 0) console.log(`Warning: ${counts.failed} failed, ${counts.queued} left queued.`);
    console.log(`Command: npm run bench:newsletter -- --subscribers ${subscribers} --concurrency ${concurrency} --ceiling-messages ${ceilingMessages}${database === 'postgres' ? ' --database postgres' : ''}`);
  } finally {
    cleanup();
    await dropPostgres?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
