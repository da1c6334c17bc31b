import path from 'node:path';
import { z } from 'zod';

/**
 * The environment, validated once at start-up and frozen. Every variable is documented in the README;
 * a bad value stops start-up with one line naming the variable (see `ConfigError`).
 */
const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  SITE_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, 'must start with sqlite: or postgres://')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_DEMO: z.enum(['true', 'false']).default('true'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example:587')
    .optional(),
  MAIL_FROM: z.string().min(3).max(320).optional(),
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  IP_STORAGE: z.enum(['full', 'truncated', 'hashed']).default('truncated'),
  DKIM_DOMAIN: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a domain name').optional(),
  DKIM_SELECTOR: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a DNS label').optional(),
  DKIM_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  SEND_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(8),
  SEND_RATE_PER_SECOND: z.coerce.number().min(0).default(0),
  WORKER: z.enum(['true', 'false']).default('true'),
  MEDIA_MAX_IMAGE_BYTES: z.coerce.number().int().min(1024).default(20 * 1024 * 1024),
  MEDIA_MAX_VIDEO_BYTES: z.coerce.number().int().min(1024).default(500 * 1024 * 1024),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Public base URL without a trailing slash, used in links, feeds, structured data and mails. */
  readonly siteUrl: string;
  readonly dataDir: string;
  readonly database: { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Seed the demo publication into an empty database on start. */
  readonly seedDemo: boolean;
  readonly mail: {
    /** SMTP server URL; without it mails are written as .eml files to `<DATA_DIR>/outbox`. */
    readonly smtpUrl: string | null;
    readonly from: string;
    readonly dkim: { readonly domain: string; readonly selector: string; readonly privateKeyFile: string } | null;
    /** Messages in flight at once, and a ceiling on messages per second (0: none). */
    readonly concurrency: number;
    readonly ratePerSecond: number;
  };
  /** Key for signed links (confirmation, unsubscribe); generated and kept in DATA_DIR when unset. */
  readonly secretKey: string | null;
  /** How a subscriber's IP address is kept in the consent record. */
  readonly ipStorage: 'full' | 'truncated' | 'hashed';
  /** Run a delivery worker inside `serve`. */
  readonly inProcessWorker: boolean;
  /** Largest newsroom upload per kind, in bytes (captions are fixed at 1 MB). */
  readonly uploadLimits: { readonly image: number; readonly video: number };
}

/** A configuration error: start-up prints its one-line message and exits, never a stack trace. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(pickDefined(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`Invalid ${variable}=${JSON.stringify(env[variable] ?? '')}: ${issue?.message ?? 'invalid value'}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const urlHost = e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST;
  const siteUrl = (e.SITE_URL ?? `http://${urlHost === '0.0.0.0' ? '127.0.0.1' : urlHost}:${e.PORT}`).replace(/\/+$/, '');
  const databaseUrl = e.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'gazette.sqlite')}`;
  const database = databaseUrl.startsWith('sqlite:')
    ? ({ kind: 'sqlite', file: path.resolve(databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')) } as const)
    : ({ kind: 'postgres', url: databaseUrl } as const);
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    siteUrl,
    dataDir,
    database: Object.freeze(database),
    logLevel: e.LOG_LEVEL,
    seedDemo: e.SEED_DEMO === 'true',
    mail: Object.freeze({
      smtpUrl: e.SMTP_URL ?? null,
      from: e.MAIL_FROM ?? `newsletter@${new URL(siteUrl).hostname}`,
      dkim: dkimConfig(e.DKIM_DOMAIN, e.DKIM_SELECTOR, e.DKIM_PRIVATE_KEY_FILE),
      concurrency: e.SEND_CONCURRENCY,
      ratePerSecond: e.SEND_RATE_PER_SECOND,
    }),
    secretKey: e.SECRET_KEY ?? null,
    ipStorage: e.IP_STORAGE,
    inProcessWorker: e.WORKER === 'true',
    uploadLimits: Object.freeze({ image: e.MEDIA_MAX_IMAGE_BYTES, video: e.MEDIA_MAX_VIDEO_BYTES }),
  });
}

/** DKIM needs all three variables or none. */
function dkimConfig(domain?: string, selector?: string, privateKeyFile?: string): Config['mail']['dkim'] {
  const given = [domain, selector, privateKeyFile].filter((v) => v !== undefined).length;
  if (given === 0) return null;
  if (!domain || !selector || !privateKeyFile) {
    const missing = !domain ? 'DKIM_DOMAIN' : !selector ? 'DKIM_SELECTOR' : 'DKIM_PRIVATE_KEY_FILE';
    throw new ConfigError(`Invalid ${missing}="": DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE together`);
  }
  return Object.freeze({ domain, selector, privateKeyFile: path.resolve(privateKeyFile) });
}

/** Treats empty variables as unset, as shells and .env files often leave them. */
function pickDefined(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') out[key] = value;
  return out;
}
