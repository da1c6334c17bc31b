import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';

export type { Logger } from 'pino';

/**
 * Query parameters whose values are safe to log (they select pages, never identify or authenticate);
 * every other value is replaced by `[redacted]`, so a token in `/newsletter/confirm?token=…` or any
 * parameter added later never reaches a log.
 */
const loggableQueryKeys = new Set(['q', 'page', 'version', 'articles', 'format']);

/** The URL's path, with query values outside `loggableQueryKeys` redacted. */
export function loggablePath(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq === -1 ? pair : pair.slice(0, eq);
      if (eq === -1) return key;
      return loggableQueryKeys.has(key) ? pair : `${key}=[redacted]`;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

/** A request id we accept from a proxy or load balancer: short, and safe to echo and to log. */
const acceptableRequestId = /^[A-Za-z0-9._:@=+/-]{1,128}$/;

/** The incoming `x-request-id` when it is sane, else a new UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && acceptableRequestId.test(given) ? given : randomUUID();
}

/** Echoes a sane incoming `x-request-id` (for the page-cache fast path, which generates none). */
export function echoRequestId(req: IncomingMessage, res: ServerResponse): void {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && acceptableRequestId.test(given)) res.setHeader('x-request-id', given);
}

/**
 * LOG_FORMAT=auto: one readable line per event for a person at a terminal, JSON lines for anything else
 * (a pipe, a file, journald, a container's log collector), which must be able to parse every line.
 */
export function chooseLogFormat(setting: Config['logFormat'], outputIsTerminal: boolean): 'json' | 'pretty' {
  return setting === 'auto' ? (outputIsTerminal ? 'pretty' : 'json') : setting;
}

/**
 * The process's logger: pino, writing JSON lines or (LOG_FORMAT, see `chooseLogFormat`) readable ones to
 * stdout or `destination`. Cookies and Authorization headers are censored wherever they appear, and request
 * URLs go through `loggablePath`; the readable format is made from the censored JSON, so it leaks nothing more.
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, destination?: DestinationStream): Logger {
  const format = chooseLogFormat(config.logFormat, destination === undefined && process.stdout.isTTY === true);
  const stream =
    format === 'pretty'
      ? prettyStream(destination ?? process.stdout)
      : (destination ?? pino.destination({ dest: 1, sync: false }));
  return pino(
    {
      level: config.logLevel,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'req.headers.cookie',
          'req.headers.authorization',
          'headers.cookie',
          'headers.authorization',
          'res.headers["set-cookie"]',
          'authorization',
          'cookie',
        ],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { method?: string; url?: string }) => ({ method: req.method, path: loggablePath(req.url ?? '') }),
        err: pino.stdSerializers.err,
      },
    },
    stream,
  );
}

/**
 * Start-up news (where mail goes, the address served, the first-admin hint) in the log's format, written
 * whatever LOG_LEVEL says (tests and operators at `warn` still see where the site is), or plain lines when
 * there is no logger (LOG_LEVEL=silent).
 */
export function startupLog(logger: Logger | false): (line: string) => void {
  if (logger === false) return (line) => console.log(line);
  const startup = logger.child({}, { level: 'info' });
  return (line) => startup.info(line);
}

/** Fastify's logger options for this process. */
export function fastifyLogging(logger: Logger | false) {
  // Typed as Fastify's base logger, so that the app's type does not depend on whether it logs.
  return logger === false
    ? { logger: false as const }
    : { loggerInstance: logger as FastifyBaseLogger, genReqId: requestIdFor };
}

const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Fields the readable line already shows, or that say nothing on one machine. */
const shownElsewhere = new Set(['time', 'level', 'msg', 'reqId', 'pid', 'hostname']);

/** `12:00:01 INFO  GET /articles/x 200 1.2 ms (req 3f…)`: LOG_FORMAT=pretty, without another dependency. */
export function prettyLine(json: string): string {
  try {
    const entry = JSON.parse(json) as Record<string, unknown>;
    const { time, level, msg, reqId } = entry;
    const clock = typeof time === 'string' ? time.slice(11, 19) : '';
    const label = (levelNames[Number(level)] ?? String(level)).padEnd(5);
    const id = typeof reqId === 'string' ? ` (req ${reqId})` : '';
    // The access line reads as a request does.
    if (msg === 'request' && typeof entry.method === 'string' && typeof entry.path === 'string') {
      return `${clock} ${label} ${entry.method} ${entry.path} ${String(entry.status)} ${String(entry.ms)} ms${id}\n`;
    }
    const extra = Object.entries(entry)
      .filter(([k]) => !shownElsewhere.has(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const text = typeof msg === 'string' ? msg : '';
    return `${clock} ${label} ${text}${extra ? ` ${extra}` : ''}${id}\n`;
  } catch {
    return json;
  }
}

function prettyStream(out: { write(chunk: string): unknown }): DestinationStream {
  return { write: (chunk: string) => void out.write(prettyLine(chunk)) };
}
