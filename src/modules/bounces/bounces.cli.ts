import { parseArgs } from 'node:util';
import { type CliCommand, UsageError, wantsHelp } from '../../cli-support.ts';
import { ConfigError, loadConfig } from '../../config.ts';
import { withMigratedDb } from '../../db/migrate.ts';
import { getOrCreateSecretKey } from '../settings/index.ts';
import { openEmailHasher } from '../subscribers/index.ts';
import { maxBounceBytes } from './bounces.parse.ts';
import { listQuarantine } from './bounces.repository.ts';
import { describeOutcome, ingestBounce } from './bounces.service.ts';

const ingestUsage = `Usage: gazette bounces ingest [--recipient ADDRESS] < message.eml

Reads one returned message on standard input — a bounce (RFC 3464 DSN, or a mail server's own words),
a complaint (RFC 5965 ARF) or an auto-reply — and prints what it was and what it did. A bounce or
complaint acts only on the delivery its signed VERP tag or Message-ID names: a hard bounce suppresses the
address, soft bounces suppress after BOUNCE_SOFT_LIMIT in 30 days, a complaint unsubscribes and
suppresses. Anything that cannot be tied to a delivery is kept for review ('gazette bounces quarantine')
and changes nothing; auto-replies change nothing. The same message read twice counts once.

--recipient  the address the message was delivered to (a Postfix pipe's \${original_recipient}).

Exits 0 whether it acted or ignored (a message over ${maxBounceBytes / 1024 / 1024} MB is refused, also 0), and 75
(EX_TEMPFAIL: the mail server keeps the message and tries again later) when the database cannot be reached.`;

const quarantineUsage = `Usage: gazette bounces quarantine

Lists the newest messages kept for review: bounces and complaints with no genuine tag.`;

/** `gazette bounces …` */
export const bouncesCommand: CliCommand = {
  summary: 'Read bounces and complaints (ingest one message from standard input; list the quarantine).',
  usage: 'gazette bounces ingest [--recipient ADDRESS] < message | gazette bounces quarantine',
  run: async (args) => {
    const [action, ...rest] = args;
    if (action === 'ingest') return ingest(rest);
    if (action === 'quarantine') return quarantine(rest);
    if (action === undefined || wantsHelp(args)) {
      console.log(`${ingestUsage}\n\n${quarantineUsage}`);
      return action === undefined ? 2 : 0;
    }
    throw new UsageError(`Unknown bounces action '${action}'. Run 'gazette bounces --help'.`);
  },
};

async function ingest(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(ingestUsage);
    return 0;
  }
  const { values, positionals } = parseArgs({
    args,
    options: { recipient: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0)
    throw new UsageError(
      `The message comes on standard input, not as an argument. Run 'gazette bounces ingest --help'.`,
    );
  const config = loadConfig();
  const raw = await readInput(process.stdin, maxBounceBytes);
  if (raw === 'too_large') {
    console.log(
      `Refused: the message is larger than ${maxBounceBytes / 1024 / 1024} MB, which no bounce or complaint is; nothing changed.`,
    );
    return 0;
  }
  try {
    const line = await withMigratedDb(config.database, async (db) => {
      const secret = await getOrCreateSecretKey(db, config.secretKey);
      const outcome = await ingestBounce(
        {
          db,
          secret,
          emailHash: await openEmailHasher(db, secret),
          softLimit: config.bounces.softLimit,
          now: () => new Date(),
        },
        raw,
        values.recipient,
      );
      return describeOutcome(outcome, config.bounces.softLimit);
    });
    console.log(line);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) throw error;
    // sysexits.h EX_TEMPFAIL: Postfix's pipe (and procmail) keep the message and retry it later.
    console.error(
      `gazette: could not record the message, it will be retried: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 75;
  }
}

/** Standard input, up to `limit` bytes; the rest is read and dropped so the writer is not left blocked. */
async function readInput(input: NodeJS.ReadableStream, limit: number): Promise<Buffer | 'too_large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size <= limit) chunks.push(buffer);
  }
  return size > limit ? 'too_large' : Buffer.concat(chunks);
}

async function quarantine(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(quarantineUsage);
    return 0;
  }
  if (args.length > 0) throw new UsageError(`Unknown argument for 'bounces quarantine': ${args[0] ?? ''}.`);
  const rows = await withMigratedDb(loadConfig().database, (db) => listQuarantine(db, 50));
  if (rows.length === 0) console.log('No quarantined messages.');
  for (const r of rows)
    console.log(
      `${String(r.id).padStart(5)}  ${r.received_at.slice(0, 16).replace('T', ' ')}  ${r.reason.padEnd(16)}  ${r.class.padEnd(9)}  ${r.sender.replace(/[\x00-\x1f\x7f]/g, ' ')}  ${r.subject.replace(/[\x00-\x1f\x7f]/g, ' ')}`,
    );
  return 0;
}
