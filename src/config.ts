import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/**
 * The environment, validated once at start-up and frozen. Every variable is described in `environmentDocs`
 * below, from which docs/configuration.md (`npm run docs:config`) and `gazette --help` are generated;
 * a bad value stops start-up with one line naming the variable (see `ConfigError`).
 */
const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  SITE_URL: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).optional(),
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
  DKIM_DOMAIN: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, 'must be a domain name')
    .optional(),
  DKIM_SELECTOR: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'must be a DNS label')
    .optional(),
  DKIM_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  SEND_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(8),
  SEND_RATE_PER_SECOND: z.coerce.number().min(0).default(0),
  WORKER: z.enum(['true', 'false']).default('true'),
  DELIVERY_POLL_MS: z.coerce.number().int().min(50).max(3_600_000).default(1_000),
  SIGNUP_LIMIT_PER_IP: z.coerce.number().int().min(0).default(20),
  SIGNUP_LIMIT_PER_ADDRESS: z.coerce.number().int().min(0).default(5),
  // Media storage (see mediaConfig below).
  MEDIA_URL: z
    .string()
    .regex(
      /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s?#]*)?$/,
      'must be s3://bucket or s3://bucket/prefix (a valid S3 bucket name)',
    )
    .optional(),
  MEDIA_PUBLIC_URL: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).optional(),
  S3_ENDPOINT: z
    .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL, e.g. https://minio.example:9000' })
    .optional(),
  S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'must be a region name, e.g. us-east-1 or auto')
    .optional(),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  CDN_PURGE_URL: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).optional(),
  CDN_PURGE_AUTHORIZATION: z.string().optional(),
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(120_000).default(0),
  MEDIA_MAX_IMAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(20 * 1024 * 1024),
  MEDIA_MAX_VIDEO_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(500 * 1024 * 1024),
  TRUST_PROXY: z
    .string()
    .refine(
      (value) => parseTrustProxy(value) !== undefined,
      'must be true, false, a hop count, or comma-separated addresses/CIDRs (or loopback, linklocal, uniquelocal)',
    )
    .optional(),
  MEDIA_MAX_IMAGE_PIXELS: z.coerce.number().int().min(1_000_000).max(100_000_000).default(50_000_000),
  MEDIA_IMAGE_JOBS_PER_USER: z.coerce.number().int().min(1).max(16).default(2),
  PAGE_CACHE_MB: z.coerce.number().int().min(1).max(65_536).default(32),
  TEST_CLOCK_FILE: z.string().min(1).optional(),
  BOUNCE_ADDRESS: z
    .string()
    .max(200)
    .refine(
      (value) => /^[^\s@<>()",;+]+@[^\s@<>()",;]+$/.test(value) && z.email().safeParse(value).success,
      'must be a plain address without `+`, e.g. bounces@news.example',
    )
    .optional(),
  BOUNCE_SOFT_LIMIT: z.coerce.number().int().min(1).max(100).default(3),
});

/** How one variable is documented; its type, allowed values and plain default are read from the schema. */
export interface VariableDoc {
  readonly group: (typeof variableGroups)[number];
  /** Markdown: what it does, and what to know before changing it. */
  readonly description: string;
  /** Shown instead of the schema's default when that is derived from elsewhere (or absent but meaningful). */
  readonly default?: string;
  /** Shown instead of the type the schema gives, when that is a pattern no reader wants to decode. */
  readonly values?: string;
}

/** Sections of docs/configuration.md and `gazette --help`, in this order. */
export const variableGroups = [
  'Web server',
  'Database and files',
  'Logs',
  'Mail',
  'Sign-ups and privacy',
  'Media',
  'Several processes',
] as const;

/**
 * Every variable's documentation: the one place to describe a new variable. TypeScript refuses a schema
 * variable missing here; `npm run docs:config` then regenerates docs/configuration.md (a test checks it).
 */
const environmentDocs: { readonly [Name in keyof typeof environmentSchema.shape]: VariableDoc } = {
  PORT: { group: 'Web server', description: 'TCP port to listen on (`0` picks a free one).' },
  HOST: {
    group: 'Web server',
    values: 'IP address or host name',
    description: 'Address to listen on; `0.0.0.0` (or `::`) to accept connections from other machines.',
  },
  SITE_URL: {
    group: 'Web server',
    default: '`http://HOST:PORT`',
    description:
      'Public base URL, used in canonical links, feeds, sitemaps, structured data and mails; set it to the address readers use, e.g. `https://news.example`. With `https://`, newsroom cookies are `Secure`.',
  },
  DATA_DIR: {
    group: 'Database and files',
    values: 'folder path',
    description:
      'Folder for the SQLite database, uploaded media (`media/`), temporary uploads (`tmp/`, `imports/`) and the mail outbox (`outbox/`).',
  },
  DATABASE_URL: {
    group: 'Database and files',
    default: '`sqlite:<DATA_DIR>/gazette.sqlite`',
    values: '`sqlite:<file>`, `postgres://…`',
    description:
      '`sqlite:/path/file.sqlite` for SQLite, or `postgres://user@host:5432/db` (or `postgresql://`) for PostgreSQL. Migrations run on start either way.',
  },
  LOG_LEVEL: {
    group: 'Logs',
    description:
      'The lowest level written. At `info`, one access line per request that reaches the router. Start-up lines (where mail goes, the address served, the first-admin hint) are written at every level.',
  },
  SEED_DEMO: {
    group: 'Database and files',
    description:
      '`false` to start with an empty site instead of seeding the demo publication into an empty database. A database that has any article is never seeded.',
  },
  SMTP_URL: {
    group: 'Mail',
    values: '`smtp://…`, `smtps://…`',
    description:
      '`smtp://[user:pass@]host:port` (STARTTLS when the server offers it) or `smtps://…` (TLS from the start). Unset, every mail is written as an `.eml` file to `DATA_DIR/outbox` and confirmation links are logged, so a local user can finish a sign-up. Credentials are never logged.',
  },
  MAIL_FROM: {
    group: 'Mail',
    default: '`newsletter@<SITE_URL host>`',
    values: 'address, or `Name <address>`',
    description: 'The sender, the envelope sender, and the `mailto:` target of `List-Unsubscribe`.',
  },
  SECRET_KEY: {
    group: 'Sign-ups and privacy',
    default: 'generated once, kept in the database',
    values: 'at least 32 characters',
    description:
      'Signs confirmation, unsubscribe and self-service links and CSRF tokens. When unset, 32 random bytes are generated on first start and stored in the database, so every process sharing it agrees. Changing it invalidates links already mailed.',
  },
  IP_STORAGE: {
    group: 'Sign-ups and privacy',
    description:
      "How a subscriber's IP address is kept in the consent record: `full`, `truncated` (IPv4 /24, IPv6 /48) or `hashed` (keyed hash).",
  },
  DKIM_DOMAIN: {
    group: 'Mail',
    values: 'domain name',
    description:
      'With `DKIM_SELECTOR` and `DKIM_PRIVATE_KEY_FILE` (all three or none): every message is DKIM-signed as `d=DKIM_DOMAIN`; the signature covers `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058 §4). See docs/operations.md for the DNS record.',
  },
  DKIM_SELECTOR: {
    group: 'Mail',
    values: 'DNS label',
    description: 'The `s=` selector: the public key is published at `<selector>._domainkey.<DKIM_DOMAIN>`.',
  },
  DKIM_PRIVATE_KEY_FILE: {
    group: 'Mail',
    values: 'file path',
    description:
      'The private key that signs, a PEM file (e.g. from `openssl genrsa 2048`); read once at start, never logged.',
  },
  SEND_CONCURRENCY: {
    group: 'Mail',
    description:
      'Messages in flight per worker, which is also its number of SMTP connections, and the most a crash can duplicate. Each web process sends sign-up confirmation mails with as many.',
  },
  SEND_RATE_PER_SECOND: {
    group: 'Mail',
    description:
      "Ceiling on messages per second per worker process (`0`: none). Divide your provider's limit by the number of workers.",
  },
  WORKER: {
    group: 'Several processes',
    description:
      '`serve` runs the background work (newsletter delivery, scheduled publishing, video snippets) in-process. Set `false` and run `gazette worker` processes instead, as many as you like. Sign-up confirmation mails are sent by the web processes either way.',
  },
  DELIVERY_POLL_MS: {
    group: 'Several processes',
    description:
      'How often a worker looks for newsletter deliveries that are due without anyone queuing them: retries, and those of a worker that stopped. A queued issue wakes the workers at once: on PostgreSQL every worker process (LISTEN/NOTIFY), on SQLite the one in the process that queued it.',
  },
  SIGNUP_LIMIT_PER_IP: {
    group: 'Sign-ups and privacy',
    description:
      'Newsletter sign-ups accepted from one IP address (an IPv6 /64) per 10 minutes, counted in the database and shared by every process (more get 429). `0` turns the limit off: for benchmarks only.',
  },
  SIGNUP_LIMIT_PER_ADDRESS: {
    group: 'Sign-ups and privacy',
    description:
      'Sign-ups for one email address per hour (each may send a confirmation mail), shared by every process. `0` turns it off.',
  },
  MEDIA_URL: {
    group: 'Media',
    default: 'none: files in `DATA_DIR/media`',
    values: '`s3://bucket[/prefix]`',
    description:
      'Stores media in an S3-compatible object store (AWS S3, MinIO, Cloudflare R2, Ceph RGW…) instead of the filesystem, so web processes on several machines share it. `/media/<file>` then proxies the object, with Range, ETag and immutable caching. The `S3_*` variables are refused without it.',
  },
  MEDIA_PUBLIC_URL: {
    group: 'Media',
    description:
      "A base URL that serves the stored files by name, e.g. a CDN in front of the bucket (`https://cdn.example/media`, prefix included): `/media/<file>` then answers with a permanent redirect there, and pages' Content-Security-Policy allows images and video from that origin.",
  },
  S3_ENDPOINT: {
    group: 'Media',
    default: 'none: AWS',
    description:
      "The store's URL for anything but AWS, e.g. `http://127.0.0.1:9000` (MinIO) or `https://<account>.r2.cloudflarestorage.com`.",
  },
  S3_REGION: {
    group: 'Media',
    default: '`AWS_REGION`, else `us-east-1`',
    values: 'region name',
    description: "The bucket's region (`auto` for R2).",
  },
  S3_FORCE_PATH_STYLE: {
    group: 'Media',
    description:
      '`true` for `endpoint/bucket/key` URLs instead of `bucket.endpoint/key` (MinIO, Ceph and most self-hosted stores).',
  },
  S3_ACCESS_KEY_ID: {
    group: 'Media',
    default: 'none: the AWS default chain',
    description:
      "With `S3_SECRET_ACCESS_KEY` (both or neither); without them the AWS SDK's default chain applies (`AWS_ACCESS_KEY_ID`…, profiles, instance or task roles). Never logged.",
  },
  S3_SECRET_ACCESS_KEY: {
    group: 'Media',
    default: 'none: the AWS default chain',
    description: 'See `S3_ACCESS_KEY_ID`. Never logged.',
  },
  LOG_FORMAT: {
    group: 'Logs',
    default: 'auto: `pretty` on a terminal, else `json`',
    description:
      '`json`: one JSON object per line (pino), for a log collector. `pretty`: one readable line per event (time, level, message, key fields). Secrets are redacted in both.',
  },
  CDN_PURGE_URL: {
    group: 'Several processes',
    description:
      'An endpoint that is sent `POST {"event":"content.changed","site":…,"version":…,"purge":"all"}` after every publish or edit, so a CDN in front drops its copies. Retried; never blocks publishing.',
  },
  CDN_PURGE_AUTHORIZATION: {
    group: 'Several processes',
    description: 'Sent as the `Authorization` header of each purge request (e.g. `Bearer …`). Never logged.',
  },
  SHUTDOWN_DELAY_MS: {
    group: 'Several processes',
    description:
      'On SIGTERM, `serve` first answers `/readyz` with 503 for this long while still serving, so a load balancer takes it out of rotation before it stops accepting connections (e.g. `5000` behind one that checks every 2 s).',
  },
  TRUST_PROXY: {
    group: 'Web server',
    default: 'off',
    values: '`true`, a hop count, or comma-separated addresses/CIDRs and `loopback`, `linklocal`, `uniquelocal`',
    description:
      "Which reverse proxies to believe for the client address (`X-Forwarded-For`) and scheme (`X-Forwarded-Proto`). Set it to your proxy's address (e.g. `loopback`) so per-IP limits and the consent record see readers, not the proxy. Never `true` or a hop count when clients can reach Gazette directly: they could forge their address. Absolute URLs always come from `SITE_URL`.",
  },
  MEDIA_MAX_IMAGE_BYTES: {
    group: 'Media',
    description:
      'Largest image upload, in bytes (default 20 MB); a larger one is refused with 413 and read no further.',
  },
  MEDIA_MAX_VIDEO_BYTES: {
    group: 'Media',
    description: 'Largest video upload, in bytes (default 500 MB). Caption (WebVTT) files are limited to 1 MB.',
  },
  MEDIA_MAX_IMAGE_PIXELS: {
    group: 'Media',
    description:
      'The most pixels an uploaded image may have, all frames of an animation counted; a larger one is refused with 413 from its header, before any decoding.',
  },
  MEDIA_IMAGE_JOBS_PER_USER: {
    group: 'Media',
    description:
      'Image uploads one newsroom user may have being processed at once, per server process; one more is refused with 429.',
  },
  BOUNCE_ADDRESS: {
    group: 'Mail',
    default: 'none: the envelope sender is `MAIL_FROM`',
    values: 'address without `+`',
    description:
      'Where bounces go (VERP): each newsletter message is sent with the envelope sender (`MAIL FROM`, which becomes `Return-Path`) `<local>+<tag>@<domain>`, the tag naming that one delivery and signed with the secret key, so a bounce or complaint is tied to its delivery and a forged tag is never acted on. `From:` stays `MAIL_FROM`. Deliver the address and its `+` variants to `gazette bounces ingest` (see docs/operations.md).',
  },
  BOUNCE_SOFT_LIMIT: {
    group: 'Mail',
    description:
      'Soft bounces (mailbox full, greylisting given up, a block, a delay notice…) of different deliveries within 30 days after which an address is suppressed. A hard bounce (no such mailbox or domain) suppresses at once; a complaint unsubscribes and suppresses at once.',
  },
  PAGE_CACHE_MB: {
    group: 'Web server',
    values: 'megabytes, 1–65536',
    description:
      'Memory each web process keeps for rendered public pages, their gzip and brotli forms counted. Past it the least recently used page is dropped, one at a time. 32 MB holds about two thousand article pages with their brotli form; more helps only when readers spread over more pages than that within five minutes (a page is re-rendered at least that often).',
  },
  TEST_CLOCK_FILE: {
    group: 'Several processes',
    values: 'file path',
    description:
      "For Gazette's own tests only, and refused unless `NODE_ENV=test`: a file holding a number of milliseconds that `serve` and `worker` add to the system clock (read at every use), so a test moves a running process's time forward, e.g. to a scheduled article's time, instead of waiting for it.",
  },
};

/** One variable as docs/configuration.md and `gazette --help` show it. */
export interface VariableReference {
  readonly name: string;
  readonly group: VariableDoc['group'];
  /** Markdown, or null when unset means "off". */
  readonly default: string | null;
  /** Markdown: the allowed values or the type. */
  readonly values: string;
  readonly description: string;
}

/** Every variable, in schema order, with its type and default read from the schema itself. */
export function environmentReference(): VariableReference[] {
  const properties = (z.toJSONSchema(environmentSchema).properties ?? {}) as Record<string, JsonProperty>;
  return Object.entries(environmentDocs).map(([name, doc]: [string, VariableDoc]) => {
    const property = properties[name] ?? {};
    const plainDefault =
      property.default === undefined
        ? null
        : `\`${typeof property.default === 'string' ? property.default : JSON.stringify(property.default)}\``;
    return {
      name,
      group: doc.group,
      default: doc.default ?? plainDefault,
      values: doc.values ?? valuesOf(property),
      description: doc.description,
    };
  });
}

interface JsonProperty {
  type?: string;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  default?: unknown;
}

function valuesOf(p: JsonProperty): string {
  if (p.enum) return p.enum.map((v) => `\`${String(v)}\``).join(', ');
  if (p.type === 'integer' || p.type === 'number') {
    const kind = p.type === 'integer' ? 'integer' : 'number';
    // .int() sets the maximum to Number.MAX_SAFE_INTEGER, which is no limit worth printing.
    if (p.minimum !== undefined && p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER)
      return `${kind} ${p.minimum}–${p.maximum}`;
    return p.minimum !== undefined ? `${kind} ≥ ${p.minimum}` : kind;
  }
  if (p.format === 'uri') return 'http(s) URL';
  return 'text';
}

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Public base URL without a trailing slash, used in links, feeds, structured data and mails. */
  readonly siteUrl: string;
  readonly dataDir: string;
  readonly database:
    { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string };
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
  /** Reading bounces and complaints (src/modules/bounces). */
  readonly bounces: {
    /** BOUNCE_ADDRESS: the base of each newsletter message's VERP envelope sender; null to use MAIL_FROM's address. */
    readonly address: string | null;
    /** BOUNCE_SOFT_LIMIT: soft bounces within 30 days that suppress an address. */
    readonly softLimit: number;
  };
  /** Key for signed links (confirmation, unsubscribe); generated and kept in DATA_DIR when unset. */
  readonly secretKey: string | null;
  /** How a subscriber's IP address is kept in the consent record. */
  readonly ipStorage: 'full' | 'truncated' | 'hashed';
  /** Run a delivery worker inside `serve`. */
  readonly inProcessWorker: boolean;
  /** How often a delivery worker reads its queue when nothing woke it. */
  readonly deliveryPollMs: number;
  readonly media: MediaConfig;
  /** Sign-ups allowed per IP per 10 minutes and per address per hour, shared through the database (0: no limit). */
  readonly signupLimits: { readonly perIp: number; readonly perAddress: number };
  /**
   * Largest newsroom upload per kind, in bytes (captions are fixed at 1 MB); the most pixels an uploaded image
   * may have (all frames of an animation together); how many image uploads one user may have processed at once.
   */
  readonly uploadLimits: {
    readonly image: number;
    readonly video: number;
    readonly imagePixels: number;
    readonly imageJobsPerUser: number;
  };
  /** JSON lines (production) or one readable line per entry (development); `auto`: pretty on a terminal. */
  readonly logFormat: 'json' | 'pretty' | 'auto';
  /** Where to POST "content changed" so a CDN purges its copies (see src/content-changes/cdn-purge.ts); null: none. */
  readonly cdnPurge: { readonly url: string; readonly authorization: string | null } | null;
  /** On SIGTERM, how long `serve` keeps answering (with /readyz at 503) before it stops accepting. */
  readonly shutdownDelayMs: number;
  /**
   * Which peers may tell us the client's address and scheme (X-Forwarded-For, X-Forwarded-Proto), as
   * Fastify's `trustProxy`: false (nobody; the default), true (any), a hop count, or addresses/CIDRs.
   */
  readonly trustProxy: boolean | number | readonly string[];
  /** Bytes of rendered pages (compressed forms included) each web process keeps in memory (PAGE_CACHE_MB). */
  readonly pageCacheBytes: number;
  /** Tests only (NODE_ENV=test): a file whose number of milliseconds moves the process's clock (src/clock.ts). */
  readonly testClockFile: string | null;
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
    throw new ConfigError(
      `Invalid ${variable}=${JSON.stringify(env[variable] ?? '')}: ${issue?.message ?? 'invalid value'}`,
    );
  }
  const e = parsed.data;
  // A moved clock publishes scheduled articles early: never let it reach a real deployment by mistake.
  if (e.TEST_CLOCK_FILE !== undefined && env.NODE_ENV !== 'test')
    throw new ConfigError(
      `Invalid TEST_CLOCK_FILE=${JSON.stringify(e.TEST_CLOCK_FILE)}: only for Gazette's own tests, with NODE_ENV=test`,
    );
  const dataDir = path.resolve(e.DATA_DIR);
  const urlHost = e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST;
  const siteUrl = (e.SITE_URL ?? `http://${urlHost === '0.0.0.0' ? '127.0.0.1' : urlHost}:${e.PORT}`).replace(
    /\/+$/,
    '',
  );
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
    bounces: Object.freeze({ address: e.BOUNCE_ADDRESS ?? null, softLimit: e.BOUNCE_SOFT_LIMIT }),
    secretKey: e.SECRET_KEY ?? null,
    ipStorage: e.IP_STORAGE,
    inProcessWorker: e.WORKER === 'true',
    deliveryPollMs: e.DELIVERY_POLL_MS,
    media: mediaConfig(e, env),
    signupLimits: Object.freeze({ perIp: e.SIGNUP_LIMIT_PER_IP, perAddress: e.SIGNUP_LIMIT_PER_ADDRESS }),
    logFormat: e.LOG_FORMAT ?? 'auto',
    cdnPurge: e.CDN_PURGE_URL
      ? Object.freeze({ url: e.CDN_PURGE_URL, authorization: e.CDN_PURGE_AUTHORIZATION ?? null })
      : null,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    uploadLimits: Object.freeze({
      image: e.MEDIA_MAX_IMAGE_BYTES,
      video: e.MEDIA_MAX_VIDEO_BYTES,
      imagePixels: e.MEDIA_MAX_IMAGE_PIXELS,
      imageJobsPerUser: e.MEDIA_IMAGE_JOBS_PER_USER,
    }),
    trustProxy: e.TRUST_PROXY === undefined ? false : (parseTrustProxy(e.TRUST_PROXY) ?? false),
    pageCacheBytes: e.PAGE_CACHE_MB * 1024 * 1024,
    testClockFile: e.TEST_CLOCK_FILE === undefined ? null : path.resolve(e.TEST_CLOCK_FILE),
  });
}

/** proxy-addr's (Fastify's) names for reserved ranges. */
const trustProxyNames = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * TRUST_PROXY in the forms Fastify's `trustProxy` accepts, or undefined when malformed. A list entry is an
 * address, an address/prefix-length or address/netmask, or one of proxy-addr's names; checked here because
 * proxy-addr would otherwise throw at the first request rather than at start-up.
 */
export function parseTrustProxy(value: string): boolean | number | readonly string[] | undefined {
  const text = value.trim();
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text.split(',').map((entry) => entry.trim());
  const valid = entries.every((entry) => {
    if (trustProxyNames.has(entry)) return true;
    const [address = '', range, ...rest] = entry.split('/');
    const version = isIP(address);
    if (version === 0 || rest.length > 0) return false;
    if (range === undefined) return true;
    if (/^\d+$/.test(range)) return Number(range) <= (version === 4 ? 32 : 128);
    return version === 4 && isIP(range) === 4; // a netmask, e.g. 10.0.0.0/255.0.0.0
  });
  return valid ? Object.freeze(entries) : undefined;
}

/** MEDIA_URL=s3://… selects S3; the S3_* variables are refused without it, so a typo cannot silently keep media on disk. */
function mediaConfig(e: z.infer<typeof environmentSchema>, env: NodeJS.ProcessEnv): MediaConfig {
  const publicUrl = e.MEDIA_PUBLIC_URL?.replace(/\/+$/, '') ?? null;
  if (e.MEDIA_URL === undefined) {
    const stray = (['S3_ENDPOINT', 'S3_REGION', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const).find(
      (name) => e[name] !== undefined,
    );
    if (stray)
      throw new ConfigError(`Invalid ${stray}: it only applies with MEDIA_URL=s3://bucket[/prefix], which is not set`);
    return Object.freeze({ storage: Object.freeze({ kind: 'filesystem' as const }), publicUrl });
  }
  // Never echo the values: these are secrets.
  if ((e.S3_ACCESS_KEY_ID === undefined) !== (e.S3_SECRET_ACCESS_KEY === undefined)) {
    const missing = e.S3_ACCESS_KEY_ID === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY';
    throw new ConfigError(
      `Invalid ${missing}: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together (or set neither to use the AWS default credential chain)`,
    );
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
    throw new ConfigError(
      `Invalid ${missing}="": DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE together`,
    );
  }
  return Object.freeze({ domain, selector, privateKeyFile: path.resolve(privateKeyFile) });
}

/** Treats empty variables as unset, as shells and .env files often leave them. */
function pickDefined(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') out[key] = value;
  return out;
}
