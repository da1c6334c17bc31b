import { type CliCommand, UsageError, wantsHelp } from './cli-support.ts';
import { processClock } from './clock.ts';
import { type Config, loadConfig } from './config.ts';
import { createDb, type Db } from './db/index.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createMailTransport, type MailTransport } from './modules/mail/index.ts';
import { createScheduledPublisher } from './modules/articles/index.ts';
import { createClipWorker } from './modules/media/index.ts';
import { MediaNewsroomService } from './modules/media/index.ts';
import { createMediaStorage, type MediaStorage } from './modules/media/index.ts';
import { openDelivery } from './modules/newsletters/index.ts';
import { createSecretSealer, getOrCreateSecretKey } from './modules/settings/index.ts';
import { createWebhookDispatcher, type WebhookDispatcherOptions } from './modules/webhooks/index.ts';
import { startContentChanges } from './content-changes/content-changes.ts';
import { scratchDirectory, sweepScratch } from './scratch.ts';

/** A loop the workers run: started once, stopped on shutdown after finishing what it has in hand. */
export interface BackgroundJob {
  /** `deliveries`, `scheduled-publisher`, `video-clips`: for logs. */
  readonly name: string;
  start(): void;
  /** Resolves once the work in flight is finished and recorded. */
  stop(): Promise<void>;
}

export interface BackgroundWork {
  jobs: readonly BackgroundJob[];
  /** Stops every job, each finishing its work in flight. */
  stop(): Promise<void>;
}

/**
 * Everything a worker process does, started together: `gazette worker` runs it on its own, and `serve`
 * runs it in-process unless WORKER=false. Each job claims its work in the database, so any number of
 * worker processes can share one database without doing anything twice.
 */
export async function startBackgroundWork(
  config: Config,
  deps: {
    db: Db;
    transport: MailTransport;
    log: (line: string) => void;
    /** For jobs that change what readers see (the scheduled publisher): drops every process's cached pages. */
    contentChanged: () => Promise<void>;
    /** The process's media storage when it already has one (`serve`); otherwise built from config and closed on stop. */
    storage?: MediaStorage;
    /** The process's clock (src/clock.ts) for the jobs that act at a time: the scheduled publisher. */
    now?: () => Date;
    /** Tests shorten the webhook retry schedule. */
    webhooks?: Partial<WebhookDispatcherOptions>;
  },
): Promise<BackgroundWork> {
  const delivery = await openDelivery(config, deps);
  // "Cut a snippet" jobs, reading and writing through the configured media storage (filesystem or S3).
  const storage = deps.storage ?? (await createMediaStorage(config));
  const closeStorage = deps.storage ? () => undefined : () => storage.close?.();
  const tmpDir = scratchDirectory(config.dataDir);
  const clips = createClipWorker({
    db: deps.db,
    storage,
    tmpDir,
    media: new MediaNewsroomService({ db: deps.db, storage, tmpDir, now: () => new Date() }),
    log: deps.log,
  });
  const jobs: BackgroundJob[] = [
    { name: 'deliveries', start: () => delivery.worker.start(), stop: () => delivery.worker.stop() },
    { name: 'video-clips', start: () => clips.start(), stop: async () => (await clips.stop(), closeStorage()) },
    // contentChanged records the change and tells every web process to drop its cached pages.
    createScheduledPublisher({
      db: deps.db,
      contentChanged: deps.contentChanged,
      log: deps.log,
      ...(deps.now ? { now: deps.now } : {}),
    }),
    // Signed webhook deliveries, queued by the changes that cause them (the outbox rows).
    createWebhookDispatcher({
      db: deps.db,
      sealer: createSecretSealer(await getOrCreateSecretKey(deps.db, config.secretKey)),
      siteUrl: config.siteUrl,
      log: deps.log,
      ...(deps.webhooks ? { options: deps.webhooks } : {}),
    }),
  ];
  for (const job of jobs) job.start();
  return {
    jobs,
    stop: async () => {
      await Promise.all(jobs.map((job) => job.stop()));
    },
  };
}

const workerUsage = `Usage: gazette worker

Run the background work until SIGTERM or SIGINT: deliver queued newsletter mail, publish scheduled
articles at their time, cut video snippets, send webhooks; then finish the work in flight, record it,
and exit. Run as many as you like, on as many machines as share the database.

Environment: SMTP_URL, MAIL_FROM, SEND_CONCURRENCY, SEND_RATE_PER_SECOND, DKIM_*, DATABASE_URL (every variable: 'gazette --help', docs/configuration.md).`;

/** `gazette worker` */
export const workerCommand: CliCommand = {
  summary: 'Run the background work (newsletter delivery…) until stopped (SIGTERM finishes the work in flight).',
  usage: workerUsage,
  run: async (args) => {
    if (wantsHelp(args)) {
      console.log(workerUsage);
      return 0;
    }
    if (args.length > 0)
      throw new UsageError(`Unknown argument for 'worker': ${args[0] ?? ''}. Run 'gazette worker --help'.`);
    const config = loadConfig();
    const { db, dialect } = createDb(config.database);
    await migrateToLatest(db);
    const transport = await createMailTransport(config);
    const log = (line: string) => console.log(line);
    // A worker has no page cache: it records its changes and tells the web processes (and the CDN).
    const contentChanges = await startContentChanges(config, {
      db,
      dialect,
      watch: false,
      log: { info: log, warn: (line) => console.error(line) },
    });
    const swept = await sweepScratch(config.dataDir);
    if (swept > 0) log(`Removed ${swept} temporary files or folders left by stopped processes.`);
    const work = await startBackgroundWork(config, {
      db,
      transport,
      log,
      contentChanged: () => contentChanges.contentChanged(),
      now: processClock(config),
    });
    console.log(
      `Worker running ${work.jobs.map((job) => job.name).join(', ')}; mail through ${transport.description} (concurrency ${config.mail.concurrency}${config.mail.ratePerSecond > 0 ? `, ${config.mail.ratePerSecond}/s` : ''}).`,
    );
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        console.log(`${signal}: finishing the work in flight…`);
        resolve();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    await work.stop();
    await contentChanges.stop();
    transport.close();
    await db.destroy();
    return 0;
  },
};
