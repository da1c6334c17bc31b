import { type CliCommand, UsageError, wantsHelp } from './cli-support.ts';
import { ConfigError, loadConfig } from './config.ts';
import { environmentHelp } from './config.docs.ts';
import { createDb } from './db/index.ts';
import { migrateToLatest, withMigratedDb } from './db/migrate.ts';
import { backupCommand, restoreCommand } from './modules/backup/index.ts';
import { bouncesCommand } from './modules/bounces/index.ts';
import { newsletterCommand } from './modules/newsletters/index.ts';
import { workerCommand } from './worker.ts';
import { startServer } from './server.ts';
import { ensureEditorBundle } from './ui/editor-bundle.ts';
import { subscribersCommand } from './modules/subscribers/index.ts';
import { userCommand } from './modules/users/index.ts';
import { webhookCommand } from './modules/webhooks/index.ts';
import { integrationCommand } from './modules/integrations/index.ts';
import { startContentChanges } from './content-changes/content-changes.ts';

/** `gazette <command>`: each command's summary, shown by `gazette --help`. */
const commands: Record<string, CliCommand> = {
  serve: {
    summary: 'Serve the site (the default; `npm start`). Migrates and seeds the demo publication on first start.',
    usage: 'gazette serve',
    run: serve,
  },
  migrate: {
    summary: 'Bring the database schema to the newest migration, then exit.',
    usage: 'gazette migrate',
    run: migrate,
  },
  invalidate: {
    summary:
      'Tell every web process (and the CDN, with CDN_PURGE_URL) that content changed: cached pages are rendered afresh.',
    usage: 'gazette invalidate',
    run: invalidate,
  },
  subscribers: subscribersCommand,
  newsletter: newsletterCommand,
  bounces: bouncesCommand,
  worker: workerCommand,
  user: userCommand,
  webhook: webhookCommand,
  integration: integrationCommand,
  backup: backupCommand,
  restore: restoreCommand,
};

/** For the commands whose help would drown in the full list of variables. */
const environmentPointer = `Environment: every variable is listed by 'gazette --help' and in docs/configuration.md.`;

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: gazette <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'gazette <command> --help' for a command's options.\n\n${environmentHelp()}`;
}

async function serve(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(`Usage: gazette serve\n\nServe the site (the default; \`npm start\`).\n\n${environmentHelp()}`);
    return 0;
  }
  rejectUnknown(args, 'serve');
  const config = loadConfig();
  // Before the assets are read: a missing or stale editor script is rebuilt (normally `npm install` did it).
  await ensureEditorBundle((message) => console.log(message));
  const server = await startServer(config);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        // A second signal: the operator does not want to wait for the requests in flight.
        server.log(`${signal} again: exiting now.`);
        process.exit(1);
      }
      stopping = true;
      server.log(`${signal}: finishing the requests in flight, then shutting down…`);
      void server.close().then(resolve);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

async function invalidate(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(
      `Usage: gazette invalidate\n\nRecord that content changed and tell every web process (PostgreSQL: NOTIFY; SQLite: they poll the\nversion each second), so cached pages are rendered afresh; with CDN_PURGE_URL, purge the CDN too.\nFor changes made outside Gazette, e.g. directly in the database.\n${environmentPointer}`,
    );
    return 0;
  }
  rejectUnknown(args, 'invalidate');
  const config = loadConfig();
  const dialect = config.database.kind;
  return withMigratedDb(config.database, async (db) => {
    const changes = await startContentChanges(config, {
      db,
      dialect,
      watch: false,
      log: { info: (line) => console.log(line), warn: (line) => console.error(line) },
    });
    await changes.contentChanged();
    console.log(`Content version ${changes.version}: every web process drops its cached pages.`);
    await changes.stop(); // waits for the CDN purge, when there is one
    return 0;
  });
}

async function migrate(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(
      `Usage: gazette migrate\n\nBring the database schema to the newest migration, then exit.\n${environmentPointer}`,
    );
    return 0;
  }
  rejectUnknown(args, 'migrate');
  const config = loadConfig();
  const { db } = createDb(config.database);
  try {
    const result = await migrateToLatest(db);
    const applied = result.results?.filter((r) => r.status === 'Success') ?? [];
    console.log(
      applied.length === 0 ? 'The schema is up to date.' : applied.map((r) => `Applied ${r.migrationName}`).join('\n'),
    );
  } finally {
    await db.destroy();
  }
  return 0;
}

function rejectUnknown(args: string[], command: string): void {
  if (args.length > 0)
    throw new UsageError(`Unknown argument for '${command}': ${args[0] ?? ''}. Run 'gazette ${command} --help'.`);
}

/** Runs the command line; resolves with the exit code. Errors become one line, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    console.log(usage());
    return 0;
  }
  const name = first ?? 'serve';
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    console.error(`Unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      console.error(`gazette: ${error.message}`);
      return 2;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') console.error('gazette: the port is already in use; set PORT to another one.');
    else if (code === 'EACCES')
      console.error('gazette: permission denied (a port below 1024, or DATA_DIR not writable).');
    else if (code === 'ECONNREFUSED') console.error('gazette: cannot reach the database named by DATABASE_URL.');
    else console.error(`gazette: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
