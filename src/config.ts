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
  MAIL_FROM: z
    .string()
    .max(320)
    .refine(isMailbox, 'must be an address, or a name and an address, e.g. The Judean <newsletter@news.example>')
    .optional(),
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  IP_STORAGE: z.enum(['full', 'truncated', 'hashed']).default('truncated'),
  DKIM_DOMAIN: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a domain name').optional(),
  DKIM_SELECTOR: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a DNS label').optional(),
  DKIM_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  SEND_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(8),
  SEND_RATE_PER_SECOND: z.coerce.number().min(0).default(0),
  WORKER: z.enum(['true', 'false']).default('true'),
  SIGNUP_LIMIT_PER_IP: z.coerce.number().int().min(0).default(20),
  SIGNUP_LIMIT_PER_ADDRESS: z.coerce.number().int().min(0).default(5),
  // Media storage (see mediaConfig below).
  MEDIA_URL: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s?#]*)?$/, 'must be s3://bucket or s3://bucket/prefix (a valid S3 bucket name)')
    .optional(),
  MEDIA_PUBLIC_URL: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).optional(),
  S3_ENDPOINT: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL, e.g. https://minio.example:9000' }).optional(),
  S3_REGION: z.string().regex(/^[a-z0-9-]+$/, 'must be a region name, e.g. us-east-1 or auto').optional(),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  CDN_PURGE_URL: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).optional(),
  CDN_PURGE_AUTHORIZATION: z.string().optional(),
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(120_000).default(0),
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
  readonly media: MediaConfig;
  /** Sign-ups allowed per IP per 10 minutes and per address per hour, per process (0: no limit). */
  readonly signupLimits: { readonly perIp: number; readonly perAddress: number };
  /** Largest newsroom upload per kind, in bytes (captions are fixed at 1 MB). */
  readonly uploadLimits: { readonly image: number; readonly video: number };
  /** JSON lines (production) or one readable line per entry (development). */
  readonly logFormat: 'json' | 'pretty';
  /** Where to POST "content changed" so a CDN purges its copies (see src/web/cdn-purge.ts); null: none. */
  readonly cdnPurge: { readonly url: string; readonly authorization: string | null } | null;
  /** On SIGTERM, how long `serve` keeps answering (with /readyz at 503) before it stops accepting. */
  readonly shutdownDelayMs: number;
}

/** Where media bytes live, and where browsers fetch them. */
export interface MediaConfig {
  readonly storage: { readonly kind: 'filesystem' } | S3StorageConfig;
  /** Base URL (no trailing slash) that serves `<fileName>`: `/media/<fileName>` then redirects there. */
  readonly publicUrl: string | null;
}

export interface S3StorageConfig {
  readonly kind: 's3';
  readonly bucket: string;
  /** Key prefix without slashes at either end ('' for none). */
  readonly prefix: string;
  /** For S3-compatible stores (MinIO, R2, Ceph…); null for AWS. */
  readonly endpoint: string | null;
  readonly region: string;
  readonly forcePathStyle: boolean;
  /** null: the AWS SDK's default credential chain (AWS_* variables, profiles, instance roles). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | null;
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
      from: e.MAIL_FROM ?? defaultMailFrom(siteUrl),
      dkim: dkimConfig(e.DKIM_DOMAIN, e.DKIM_SELECTOR, e.DKIM_PRIVATE_KEY_FILE),
      concurrency: e.SEND_CONCURRENCY,
      ratePerSecond: e.SEND_RATE_PER_SECOND,
    }),
    secretKey: e.SECRET_KEY ?? null,
    ipStorage: e.IP_STORAGE,
    inProcessWorker: e.WORKER === 'true',
    media: mediaConfig(e, env),
    signupLimits: Object.freeze({ perIp: e.SIGNUP_LIMIT_PER_IP, perAddress: e.SIGNUP_LIMIT_PER_ADDRESS }),
    logFormat: e.LOG_FORMAT,
    cdnPurge: e.CDN_PURGE_URL ? Object.freeze({ url: e.CDN_PURGE_URL, authorization: e.CDN_PURGE_AUTHORIZATION ?? null }) : null,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    uploadLimits: Object.freeze({ image: e.MEDIA_MAX_IMAGE_BYTES, video: e.MEDIA_MAX_VIDEO_BYTES }),
  });
}

/** MEDIA_URL=s3://… selects S3; the S3_* variables are refused without it, so a typo cannot silently keep media on disk. */
function mediaConfig(e: z.infer<typeof environmentSchema>, env: NodeJS.ProcessEnv): MediaConfig {
  const publicUrl = e.MEDIA_PUBLIC_URL?.replace(/\/+$/, '') ?? null;
  if (e.MEDIA_URL === undefined) {
    const stray = (['S3_ENDPOINT', 'S3_REGION', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const).find((name) => e[name] !== undefined);
    if (stray) throw new ConfigError(`Invalid ${stray}: it only applies with MEDIA_URL=s3://bucket[/prefix], which is not set`);
    return Object.freeze({ storage: Object.freeze({ kind: 'filesystem' as const }), publicUrl });
  }
  // Never echo the values: these are secrets.
  if ((e.S3_ACCESS_KEY_ID === undefined) !== (e.S3_SECRET_ACCESS_KEY === undefined)) {
    const missing = e.S3_ACCESS_KEY_ID === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY';
    throw new ConfigError(`Invalid ${missing}: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together (or set neither to use the AWS default credential chain)`);
  }
  const [bucket = '', ...rest] = e.MEDIA_URL.slice('s3://'.length).split('/');
  const storage: S3StorageConfig = {
    kind: 's3',
    bucket,
    prefix: rest.join('/').replace(/^\/+|\/+$/g, ''),
    endpoint: e.S3_ENDPOINT?.replace(/\/+$/, '') ?? null,
    region: e.S3_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: e.S3_FORCE_PATH_STYLE === 'true',
    credentials:
      e.S3_ACCESS_KEY_ID !== undefined && e.S3_SECRET_ACCESS_KEY !== undefined
        ? Object.freeze({ accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY })
        : null,
  };
  return Object.freeze({ storage: Object.freeze(storage), publicUrl });
}

/**
 * `address` or `Name <address>`: what the From header and the SMTP envelope are made from. The address must
 * be one receivers accept: a domain name with a dot (no bare IP, which is not valid without brackets and
 * which servers refuse anyway), checked with zod's address rule; the name one line without angle brackets.
 */
function isMailbox(value: string): boolean {
  const match = /^\s*(?:([^<>\r\n]*?)\s*<([^<>\s]+)>|([^<>\s]+))\s*$/.exec(value);
  const address = match?.[2] ?? match?.[3];
  return address !== undefined && z.email().safeParse(address).success;
}

/**
 * Without MAIL_FROM: `newsletter@` the site's host when that is a domain name that can receive mail, else
 * `newsletter@localhost.localdomain` (a SITE_URL on an IP address or `localhost`, as in development).
 */
function defaultMailFrom(siteUrl: string): string {
  const candidate = `newsletter@${new URL(siteUrl).hostname}`;
  return isMailbox(candidate) ? candidate : 'newsletter@localhost.localdomain';
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
