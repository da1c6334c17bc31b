import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { type CliCommand, UsageError, wantsHelp } from '../../cli-support.ts';
import { type Config, loadConfig } from '../../config.ts';
import { createDb, type Db } from '../../db/index.ts';
import { migrateToLatest, withMigratedDb } from '../../db/migrate.ts';
import { createMailTransport, type MailTransport } from '../mail/index.ts';
import { createVerpSender } from '../mail/index.ts';
import { createDeliveryWorker, type DeliveryOutcome, type DeliveryWorker } from './delivery.worker.ts';

import { getOrCreateSecretKey } from '../settings/index.ts';
import { openEmailHasher } from '../subscribers/index.ts';
import { createRecipientLinks, listIdFor } from './newsletters.links.ts';
import { listIssues } from './newsletters.repository.ts';
import {
  createIssue,
  getIssueProgress,
  type NewsletterDeps,
  queueIssue,
  renderIssuePreview,
  sendTestIssue,
} from './newsletters.service.ts';

const newsletterUsage = `Usage:
  gazette newsletter send <article-slug>… [--subject TEXT] [--wait]
      Compose an issue from the articles and queue it to every confirmed subscriber; prints the issue
      number and the recipient count. The workers (\`gazette worker\`, or \`serve\`) deliver it. With
      --wait this command also delivers it itself, with a progress bar, until the send ends.
  gazette newsletter status [issue-number]
      The recent issues, or one issue's deliveries by state.
  gazette newsletter preview <article-slug>… [--subject TEXT] [file.html]
      Write the issue's HTML (to the file, or to standard output) without sending anything. The site
      shows the same preview at /newsletter/preview?articles=<slug>,<slug>.
  gazette newsletter test-send <article-slug>… --to ADDRESS [--subject TEXT]
      Send one copy marked [Test] to ADDRESS; nothing is queued or recorded.

Environment: SMTP_URL, MAIL_FROM, SEND_CONCURRENCY, SEND_RATE_PER_SECOND, DKIM_DOMAIN, DKIM_SELECTOR,
DKIM_PRIVATE_KEY_FILE, DATABASE_URL, DATA_DIR, SITE_URL (every variable: 'gazette --help', docs/configuration.md).`;

/** `gazette newsletter …` */
export const newsletterCommand: CliCommand = {
  summary: 'Compose, send and follow newsletter issues (send, status, preview, test-send).',
  usage: newsletterUsage,
  run: async (args) => {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      console.log(newsletterUsage);
      return sub === undefined ? 2 : 0;
    }
    if (wantsHelp(rest)) {
      console.log(newsletterUsage);
      return 0;
    }
    switch (sub) {
      case 'send':
        return send(rest);
      case 'status':
        return status(rest);
      case 'preview':
        return preview(rest);
      case 'test-send':
        return testSend(rest);
      default:
        throw new UsageError(`Unknown newsletter command '${sub}'. Run 'gazette newsletter --help'.`);
    }
  },
};

/** `gazette worker` */
/** The dependencies of composing and sending, built from configuration (entry points call this). */
export async function newsletterDeps(config: Config, db: Db): Promise<NewsletterDeps> {
  return {
    siteUrl: config.siteUrl,
    emailHash: await openEmailHasher(db, await getOrCreateSecretKey(db, config.secretKey)),
  };
}

/** Opens the database (migrated), the mail transport, and a worker wired to both. */
export async function openDelivery(
  config: Config,
  extra: {
    log?: (line: string) => void;
    onOutcome?: (outcome: DeliveryOutcome) => void;
    db?: Db;
    transport?: MailTransport;
  } = {},
): Promise<{ db: Db; transport: MailTransport; worker: DeliveryWorker }> {
  const db = extra.db ?? createDb(config.database).db;
  if (!extra.db) await migrateToLatest(db);
  const transport = extra.transport ?? (await createMailTransport(config));
  const secret = await getOrCreateSecretKey(db, config.secretKey);
  const worker = createDeliveryWorker({
    db,
    transport,
    links: createRecipientLinks({ siteUrl: config.siteUrl, mailFrom: config.mail.from, secret }),
    emailHash: await openEmailHasher(db, secret),
    listId: listIdFor(config.siteUrl),
    messageIdDomain: new URL(config.siteUrl).hostname,
    secret,
    // VERP: each message's bounce comes back naming its delivery (BOUNCE_ADDRESS; src/modules/bounces).
    ...(config.bounces.address ? { envelopeSender: createVerpSender(secret, config.bounces.address) } : {}),
    concurrency: config.mail.concurrency,
    ratePerSecond: config.mail.ratePerSecond,
    options: { pollMs: config.deliveryPollMs },
    listenUrl: config.database.kind === 'postgres' ? config.database.url : undefined,
    ...(extra.log ? { log: extra.log } : {}),
    ...(extra.onOutcome ? { onOutcome: extra.onOutcome } : {}),
  });
  return { db, transport, worker };
}

function parseIssueArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: { subject: { type: 'string' }, wait: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  return { subject: values.subject, wait: values.wait === true, positionals };
}

async function send(args: string[]): Promise<number> {
  const { subject, wait, positionals: slugs } = parseIssueArgs(args);
  if (slugs.length === 0) throw new UsageError("Name at least one article: 'gazette newsletter send <article-slug>'.");
  const config = loadConfig();
  return withMigratedDb(config.database, async (db) => {
    const deps = await newsletterDeps(config, db);
    const issue = await createIssue(db, deps, { slugs, subject });
    const recipients = await queueIssue(db, deps, issue.id);
    console.log(
      `Issue ${issue.id} “${issue.subject}” queued to ${recipients} confirmed subscriber${recipients === 1 ? '' : 's'}.`,
    );
    if (!wait) return 0;
    return await sendAndWait(config, db, issue.id);
  });
}

/** Works the queue in this process until the issue's send ends, with a progress bar on stderr. */
async function sendAndWait(config: Config, db: Db, issueId: number): Promise<number> {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'Sending |{bar}| {value}/{total} · sent {sent} · failed {failed} · remaining {remaining} · {rate}/s',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const first = await getIssueProgress(db, issueId);
  const total = first.counts.queued + first.counts.sending + first.counts.sent + first.counts.failed;
  const started = Date.now();
  bar.start(total, 0, { sent: 0, failed: 0, remaining: total, rate: 0 });
  const { transport, worker } = await openDelivery(config, { db, log: (line) => process.stderr.write(`\n${line}\n`) });
  worker.start();
  let progress = first;
  let stopping = false;
  const interrupt = () => (stopping = true);
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    while (!stopping) {
      progress = await getIssueProgress(db, issueId);
      const c = progress.counts;
      const done = c.sent + c.failed;
      const seconds = Math.max(0.001, (Date.now() - started) / 1000);
      bar.update(done, {
        sent: c.sent,
        failed: c.failed,
        remaining: c.queued + c.sending,
        rate: Math.round((c.sent - first.counts.sent) / seconds),
      });
      if (progress.issue.status === 'sent') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    bar.stop();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await worker.stop();
    transport.close();
  }
  const c = progress.counts;
  const seconds = (Date.now() - started) / 1000;
  console.log(
    progress.issue.status === 'sent'
      ? `Issue ${issueId} sent: ${c.sent} accepted by the SMTP server, ${c.failed} failed, ${c.skipped} skipped, in ${seconds.toFixed(1)} s.`
      : `Stopped: ${c.sent} sent, ${c.failed} failed, ${c.queued + c.sending} still queued (any worker will finish them).`,
  );
  return 0;
}

async function status(args: string[]): Promise<number> {
  if (args.length > 1) throw new UsageError('Usage: gazette newsletter status [issue-number]');
  const config = loadConfig();
  return withMigratedDb(config.database, async (db) => {
    if (args[0] === undefined) {
      const issues = await listIssues(db, 20);
      if (issues.length === 0) console.log('No issues yet.');
      for (const i of issues)
        console.log(
          `${String(i.id).padStart(5)}  ${i.status.padEnd(7)}  ${String(i.recipient_count).padStart(7)} recipients  ${i.created_at.slice(0, 16).replace('T', ' ')}  ${i.subject}`,
        );
      return 0;
    }
    const id = Number(args[0]);
    if (!Number.isInteger(id) || id <= 0) throw new UsageError(`Not an issue number: ${args[0]}`);
    const { issue, counts } = await getIssueProgress(db, id);
    console.log(`Issue ${issue.id} “${issue.subject}”: ${issue.status}, ${issue.recipient_count} recipients`);
    console.log(
      `  sent ${counts.sent} · failed ${counts.failed} · queued ${counts.queued} · sending ${counts.sending} · skipped ${counts.skipped}`,
    );
    if (issue.finished_at) console.log(`  finished ${issue.finished_at}`);
    return 0;
  });
}

async function preview(args: string[]): Promise<number> {
  const { subject, positionals } = parseIssueArgs(args);
  const file = positionals.length > 1 && /\.html?$/i.test(positionals.at(-1) ?? '') ? positionals.at(-1) : undefined;
  const slugs = file ? positionals.slice(0, -1) : positionals;
  if (slugs.length === 0)
    throw new UsageError("Name at least one article: 'gazette newsletter preview <article-slug> [file.html]'.");
  const config = loadConfig();
  return withMigratedDb(config.database, async (db) => {
    const page = await renderIssuePreview(db, config.siteUrl, { slugs, subject });
    if (file) {
      await writeFile(file, page.html);
      console.log(`Wrote the preview of “${page.subject}” to ${file}.`);
    } else process.stdout.write(page.html);
    return 0;
  });
}

async function testSend(args: string[]): Promise<number> {
  const { values, positionals: slugs } = parseArgs({
    args,
    options: { subject: { type: 'string' }, to: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (slugs.length === 0 || !values.to)
    throw new UsageError(
      "Name the articles and the address: 'gazette newsletter test-send <article-slug>… --to you@example.com'.",
    );
  const to = values.to;
  if (!/^[^\s@<>()",;]{1,64}@[^\s@<>()",;]{1,253}$/.test(to))
    throw new UsageError(`Not an email address: ${JSON.stringify(to)}`);
  const config = loadConfig();
  const { db } = createDb(config.database);
  const transport = await createMailTransport(config);
  try {
    await migrateToLatest(db);
    const outcome = await sendTestIssue(db, transport, { siteUrl: config.siteUrl, slugs, subject: values.subject, to });
    if (outcome.kind === 'accepted') {
      console.log(`Sent a test copy to ${to} through ${transport.description}.`);
      return 0;
    }
    console.error(`gazette: the test copy was not accepted (${outcome.kind}): ${outcome.error}`);
    return 1;
  } finally {
    transport.close();
    await db.destroy();
  }
}
