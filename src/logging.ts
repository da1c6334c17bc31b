import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
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
 * The process's logger: pino, JSON lines on stdout (LOG_FORMAT=json, the default), or one readable line per
 * entry (LOG_FORMAT=pretty, for a terminal). Cookies and Authorization headers are censored wherever they
 * appear, and request URLs go through `loggablePath`.
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, destination?: DestinationStream): Logger {
  const stream = destination ?? (config.logFormat === 'pretty' ? prettyStream(process.stdout) : pino.destination({ dest: 1, sync: false }));
  return pino(
    {
      level: config.logLevel,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers.cookie', 'req.headers.authorization', 'headers.cookie', 'headers.authorization', 'res.headers["set-cookie"]', 'authorization', 'cookie'],
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

/** Fastify's logger options for this process. */
export function fastifyLogging(logger: Logger | false) {
  // Typed as Fastify's base logger, so that the app's type does not depend on whether it logs.
  return logger === false ? { logger: false as const } : { loggerInstance: logger as FastifyBaseLogger, genReqId: requestIdFor };
}

const levelNames: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** `12:00:01 INFO  GET /articles/x 200 1.2 ms (req 3f…)`: LOG_FORMAT=pretty, without another dependency. */
function prettyStream(out: NodeJS.WritableStream): DestinationStream {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        const entry = JSON.parse(chunk.toString()) as Record<string, unknown>;
        const { time, level, msg, reqId } = entry;
        const extra = Object.entries(entry)
          .filter(([k]) => !['time', 'level', 'msg', 'reqId', 'pid', 'hostname'].includes(k))
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        const clock = typeof time === 'string' ? time.slice(11, 19) : '';
        const text = typeof msg === 'string' ? msg : '';
        const id = typeof reqId === 'string' ? ` (req ${reqId})` : '';
        out.write(`${clock} ${(levelNames[Number(level)] ?? String(level)).padEnd(5)} ${text}${extra ? ` ${extra}` : ''}${id}\n`);
      } catch {
        out.write(chunk);
      }
      callback();
    },
  });
}
