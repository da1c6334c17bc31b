import { parseArgs } from 'node:util';
import { type CliCommand, UsageError, wantsHelp } from '../../cli-support.ts';
import { loadConfig } from '../../config.ts';
import { withMigratedDb } from '../../db/migrate.ts';
import { AppError } from '../../errors.ts';
import { createSecretSealer, getOrCreateSecretKey } from '../settings/index.ts';
import { webhookEventNames } from './webhooks.events.ts';
import { WebhookService } from './webhooks.service.ts';

const addUsage = `Usage: gazette webhook add <url> --events <list> [--allow-private]

Registers an endpoint and prints its signing secret (Standard Webhooks, whsec_…), shown only this once.
--events is a comma-separated list of: ${webhookEventNames.join(', ')}, or a group such as post.* or page.*.
Gazette never sends to a private, loopback or link-local address (checked when each request connects)
unless --allow-private says this endpoint is meant to be on your own network.`;

const otherUsage = `Usage: gazette webhook list | webhook rotate <id> | webhook remove <id>

list: every endpoint with its events and its deliveries by state.
rotate: a new secret, printed once; the old one also signs deliveries for 24 hours.
remove: the endpoint, its queued deliveries and its log.`;

/** `gazette webhook add|list|rotate|remove` */
export const webhookCommand: CliCommand = {
  summary: 'Register webhook endpoints (prints the signing secret), list, rotate their secrets, remove them.',
  usage:
    'gazette webhook add <url> --events <list> [--allow-private] | webhook list | webhook rotate <id> | webhook remove <id>',
  run: async (args) => {
    const [action, ...rest] = args;
    if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
      console.log(`${addUsage}\n\n${otherUsage}`);
      return 0;
    }
    if (wantsHelp(rest)) {
      console.log(action === 'add' ? addUsage : otherUsage);
      return 0;
    }
    if (action === 'add') return add(rest);
    if (action === 'list') return list(rest);
    if (action === 'rotate' || action === 'remove') return change(action, rest);
    throw new UsageError(`Unknown webhook action '${action}'. Run 'gazette webhook --help'.`);
  },
};

async function withWebhooks<T>(work: (webhooks: WebhookService) => Promise<T>): Promise<T> {
  const config = loadConfig();
  try {
    return await withMigratedDb(config.database, async (db) => {
      const sealer = createSecretSealer(await getOrCreateSecretKey(db, config.secretKey));
      return work(new WebhookService({ db, sealer, now: () => new Date() }));
    });
  } catch (error) {
    if (error instanceof AppError && error.status < 500) throw new UsageError(error.message);
    throw error;
  }
}

async function add(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { events: { type: 'string' }, 'allow-private': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const [url, extra] = positionals;
  if (url === undefined || extra !== undefined) throw new UsageError(`Give exactly one URL.\n\n${addUsage}`);
  if (values.events === undefined) throw new UsageError(`--events is required.\n\n${addUsage}`);
  const events = values.events;
  const { id, secret } = await withWebhooks((w) =>
    w.register({ url, events: [events], allowPrivate: values['allow-private'] === true, createdBy: 'command line' }),
  );
  console.log(`Webhook ${id} registered for ${url}.`);
  console.log(`Signing secret (shown once; verify deliveries with it, e.g. the standardwebhooks package):\n${secret}`);
  return 0;
}

async function list(args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`Unknown argument for 'webhook list': ${args[0] ?? ''}.`);
  const endpoints = await withWebhooks((w) => w.list());
  if (endpoints.length === 0) console.log('No webhook endpoints.');
  for (const e of endpoints) {
    const c = e.counts;
    console.log(
      `${e.id}\t${e.url}\t${e.events.join(',')}${e.allowPrivate ? '\tprivate addresses allowed' : ''}\t${c.delivered} delivered, ${c.queued + c.sending} waiting, ${c.failed} failed`,
    );
  }
  return 0;
}

async function change(action: 'rotate' | 'remove', args: string[]): Promise<number> {
  const [text, extra] = args;
  const id = Number(text);
  if (text === undefined || extra !== undefined || !Number.isSafeInteger(id) || id <= 0)
    throw new UsageError(`Give the endpoint's number (see 'gazette webhook list').`);
  if (action === 'remove') {
    await withWebhooks((w) => w.remove(id));
    console.log(`Webhook ${id} removed, with its queued deliveries and its log.`);
    return 0;
  }
  const { secret, previousValidUntil } = await withWebhooks((w) => w.rotate(id));
  console.log(
    `New signing secret for webhook ${id} (shown once):\n${secret}\nThe previous secret also signs deliveries until ${previousValidUntil}.`,
  );
  return 0;
}
