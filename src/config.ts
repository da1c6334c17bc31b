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
  });
}

/** Treats empty variables as unset, as shells and .env files often leave them. */
function pickDefined(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') out[key] = value;
  return out;
}
