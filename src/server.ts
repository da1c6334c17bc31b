import { buildApp } from './app.ts';
import { processClock } from './clock.ts';
import { type Config } from './config.ts';
import { createDb } from './db/index.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createLogger, startupLog } from './logging.ts';
import { createMailTransport } from './modules/mail/index.ts';
import { createMediaStorage } from './modules/media/index.ts';
import { seedDemoPublication } from './modules/seed/index.ts';
import { UserService } from './modules/users/index.ts';
import { sweepScratch } from './scratch.ts';
import { startContentChanges } from './content-changes/content-changes.ts';
import { startBackgroundWork } from './worker.ts';

/**
 * Starts the web server: opens the database, migrates it, seeds the demo publication into an empty one,
 * starts watching for content changes made by other processes, and listens. Resolves with a function that
 * shuts everything down gracefully, and the start-up log (for the lines about shutting down).
 */
export async function startServer(
  config: Config,
  startupLines?: (line: string) => void,
): Promise<{ close: () => Promise<void>; url: string; log: (line: string) => void }> {
  const logger = config.logLevel === 'silent' ? false : createLogger(config);
  const log = startupLines ?? startupLog(logger);
  const { db, dialect } = createDb(config.database);
  await migrateToLatest(db);
  // What a `kill -9` left behind: spooled uploads, an import's CSV of subscribers, half-made media files.
  const swept = await sweepScratch(config.dataDir);
  if (swept > 0) log(`Removed ${swept} temporary files or folders left by stopped processes.`);
  const storage = await createMediaStorage(config);
  log(`Media is stored in ${storage.description}.`);
  if (config.seedDemo) {
    const outcome = await seedDemoPublication(db, { storage });
    if (outcome === 'seeded') log('Seeded the demo publication, The Judean.');
  }
  const mail = await createMailTransport(config);
  log(`Mail goes to ${mail.description}.`);
  const contentChanges = await startContentChanges(config, {
    db,
    dialect,
    watch: true,
    ...(logger ? { log: logger } : {}),
  });
  const now = processClock(config);
  const { app, startDraining, contentChanged } = await buildApp({
    config,
    db,
    mail,
    storage,
    logger,
    contentChanges,
    now,
  });
  /** What outlives the app: stopped last, after the app (and its sign-up mailer) has closed. */
  const release = async () => {
    await contentChanges.stop();
    mail.close();
    storage.close?.();
    await db.destroy();
  };
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // E.g. the port is taken: close what started (the sign-up mailer's poll, the content watcher) so the
    // process can exit with the error instead of lingering.
    await app.close();
    await release();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = config.siteUrl;
  log(`Gazette is serving ${url} (listening on ${config.host}:${port}, data in ${config.dataDir})`);
  if (!(await new UserService({ db, siteUrl: url, now: () => new Date() }).hasActiveAdmin())) log(firstAdminHint);
  // The in-process background work (WORKER=false to run `gazette worker` processes instead).
  const background = config.inProcessWorker
    ? await startBackgroundWork(config, { db, log, transport: mail, contentChanged, storage, now })
    : undefined;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Readiness fails first, so that a load balancer stops sending new requests during the delay.
      startDraining();
      if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
      await app.close(); // stops accepting, waits for in-flight requests
      await background?.stop(); // finishes and records the work in flight
      await release();
      if (logger) logger.flush();
    })());
  return { close, url, log };
}

/** What a new install needs next: the newsroom has no way in until an admin exists. */
export const firstAdminHint =
  'No newsroom admin yet. Create the first one (it prints a one-time sign-in link): npx gazette user add you@example.com --role admin --name "Your Name"';
