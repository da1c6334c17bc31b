import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type nodemailerDefault from 'nodemailer';
import type { SendMailOptions, Transporter, TransportOptions } from 'nodemailer';
import type { Config } from '../../config.ts';
import { SmtpPool } from './smtp.pool.ts';

/** One message, fully rendered; the transport only frames and sends it. */
export interface OutgoingMail {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** `<unique@domain>`; set by the caller so a retry of the same delivery keeps its Message-ID. */
  messageId: string;
  /** RFC 2369 / RFC 8058 list headers for newsletters. */
  list?: { id: string; unsubscribeUrl: string; unsubscribeMailto: string };
  /** `Auto-Submitted: auto-generated` (RFC 3834 §5), for mails a program sends on its own (sign-up mails). */
  autoSubmitted?: boolean;
  /** The envelope sender (MAIL FROM), e.g. a VERP address (mail.verp.ts); MAIL_FROM's address when absent. */
  envelopeFrom?: string;
}

/**
 * What happened to one message. `temporary` covers 4xx replies, timeouts and dropped connections (retry
 * later); `permanent` a 5xx for this recipient (do not retry).
 */
export type SendOutcome =
  | { kind: 'accepted'; response: string }
  | {
      kind: 'temporary';
      error: string;
      serverDown: boolean;
      /**
       * The server's reply when it answered but would not open a session for us at all (its greeting,
       * STARTTLS or login refused, e.g. `535 5.7.8 …` for wrong credentials): a configuration problem, not
       * a server that is down.
       */
      sessionRefused?: string;
    }
  | { kind: 'permanent'; error: string; responseCode: number };

/** Whether the SMTP server opens a session for us; `refused` is its reply when it answered with a refusal. */
export type SessionCheck = { ok: true } | { ok: false; error: string; refused?: string };

/** The one door through which mail leaves Gazette: SMTP, or the outbox folder without SMTP_URL. */
export interface MailTransport {
  readonly description: string;
  send(mail: OutgoingMail): Promise<SendOutcome>;
  /**
   * Bulk fast path, present when messages need no signing here: sends a message already rendered by
   * mail.mime.ts (CRLF, no line starting with a dot) from the configured sender to `to`: one Buffer, or the
   * Buffers it is made of, in order. `envelopeFrom` is the MAIL FROM (e.g. a VERP address), MAIL_FROM's
   * address when absent.
   */
  sendRaw?: (to: string, message: Buffer | readonly Buffer[], envelopeFrom?: string) => Promise<SendOutcome>;
  /** The configured sender, `Name <address>`. */
  readonly from?: string;
  /** SMTP only: opens a session (greeting, TLS, login) and quits, sending nothing. */
  verify?: () => Promise<SessionCheck>;
  close(): void;
}

/** Network timeouts; tests shorten them. */
export interface TransportTimeouts {
  connectionTimeoutMs: number;
  socketTimeoutMs: number;
}

type Nodemailer = typeof nodemailerDefault;
let nodemailerModule: Promise<Nodemailer> | undefined;
/**
 * nodemailer is loaded on first use: it costs about 80 ms of start-up (and, through its ESM build, Node's
 * `node:http` facade, which loads undici), and a web process may never send a mail through it (sign-up mails
 * and newsletters go through the lean pool).
 */
function loadNodemailer(): Promise<Nodemailer> {
  return (nodemailerModule ??= import('nodemailer').then((m) => m.default));
}

/** A nodemailer transporter made on first use; `close` closes it only if it was made. */
function lazyTransporter(make: (nodemailer: Nodemailer) => Transporter): {
  get: () => Promise<Transporter>;
  close: () => void;
} {
  let made: Promise<Transporter> | undefined;
  return {
    get: () => (made ??= loadNodemailer().then(make)),
    close: () => void made?.then((t) => t.close()),
  };
}

/** Builds the transport from configuration; DKIM signs every message when a key is configured. */
export async function createMailTransport(
  config: Pick<Config, 'mail' | 'dataDir'>,
  timeouts: Partial<TransportTimeouts> = {},
): Promise<MailTransport> {
  const dkim = config.mail.dkim
    ? {
        domainName: config.mail.dkim.domain,
        keySelector: config.mail.dkim.selector,
        privateKey: await readFile(config.mail.dkim.privateKeyFile, 'utf8'),
      }
    : undefined;
  const from = config.mail.from;

  if (!config.mail.smtpUrl) {
    const outbox = path.join(config.dataDir, 'outbox');
    const stream = lazyTransporter((nodemailer) =>
      nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix', ...(dkim ? { dkim } : {}) }),
    );
    return {
      description: `outbox folder ${outbox}`,
      send: async (mail) => {
        const info = await (await stream.get()).sendMail(toNodemailer(from, mail));
        await mkdir(outbox, { recursive: true });
        const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
        const temporary = path.join(outbox, `.${name}.tmp`);
        await writeFile(temporary, info.message as Buffer);
        await rename(temporary, path.join(outbox, name));
        return { kind: 'accepted', response: `written to ${name}` };
      },
      close: () => stream.close(),
    };
  }

  const smtp = lazyTransporter((nodemailer) =>
    nodemailer.createTransport({
      url: config.mail.smtpUrl,
      pool: true,
      maxConnections: Math.min(config.mail.concurrency, 20),
      maxMessages: 1000,
      connectionTimeout: timeouts.connectionTimeoutMs ?? 10_000,
      greetingTimeout: timeouts.connectionTimeoutMs ?? 10_000,
      socketTimeout: timeouts.socketTimeoutMs ?? 30_000,
      ...(dkim ? { dkim } : {}),
    } as TransportOptions),
  );
  const url = new URL(config.mail.smtpUrl);
  // DKIM signs in nodemailer's pipeline, so signed mail takes that path; unsigned bulk mail the lean pool.
  const pool = dkim
    ? undefined
    : new SmtpPool({
        url: config.mail.smtpUrl,
        maxConnections: config.mail.concurrency,
        connectionTimeoutMs: timeouts.connectionTimeoutMs ?? 10_000,
        socketTimeoutMs: timeouts.socketTimeoutMs ?? 30_000,
        maxMessagesPerConnection: 1000,
      });
  const envelopeFrom = /<([^<>]+)>/.exec(from)?.[1] ?? from.trim();
  return {
    // Never the credentials: only where mail goes.
    description: `${url.protocol}//${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 587)}`,
    from,
    ...(pool
      ? {
          sendRaw: (to: string, message: Buffer | readonly Buffer[], sender?: string) =>
            pool.send(sender ?? envelopeFrom, to, message),
        }
      : {}),
    verify: async () => {
      if (pool) return pool.verify();
      try {
        await (await smtp.get()).verify();
        return { ok: true };
      } catch (error) {
        const outcome = classifySmtpError(error);
        return {
          ok: false,
          error: outcome.kind === 'accepted' ? '' : outcome.error,
          ...(outcome.kind === 'temporary' && outcome.sessionRefused ? { refused: outcome.sessionRefused } : {}),
        };
      }
    },
    send: async (mail) => {
      try {
        const info = (await (await smtp.get()).sendMail(toNodemailer(from, mail))) as {
          response?: string;
          rejected?: unknown[];
        };
        if (Array.isArray(info.rejected) && info.rejected.length > 0)
          return { kind: 'permanent', error: `rejected: ${String(info.response)}`, responseCode: 550 };
        return { kind: 'accepted', response: String(info.response ?? '') };
      } catch (error) {
        return classifySmtpError(error);
      }
    },
    close: () => {
      smtp.close();
      pool?.close();
    },
  };
}

function toNodemailer(from: string, mail: OutgoingMail): SendMailOptions {
  return {
    from,
    to: mail.to,
    subject: mail.subject,
    html: mail.html,
    text: mail.text,
    messageId: mail.messageId,
    // The envelope sender; nodemailer takes the recipients from `to` unless the envelope names them too.
    ...(mail.envelopeFrom ? { envelope: { from: mail.envelopeFrom, to: mail.to } } : {}),
    ...(mail.autoSubmitted ? { headers: { 'Auto-Submitted': 'auto-generated' } } : {}),
    ...(mail.list
      ? {
          headers: {
            'List-Id': `<${mail.list.id}>`,
            // ONE List-Unsubscribe field holding both URIs (RFC 2369 §3.2). Nodemailer's `list` option writes
            // one field per URI, and a DKIM signature covers only the last instance of a repeated field.
            'List-Unsubscribe': `<${mail.list.unsubscribeUrl}>, <${mail.list.unsubscribeMailto}>`,
            // RFC 8058 §3.1: the POST body a one-click unsubscribe sends.
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
            Precedence: 'bulk',
          },
        }
      : {}),
  };
}

/**
 * Maps nodemailer's errors to outcomes: 5xx is permanent, 4xx and network failures are temporary. A refused
 * login is no recipient's fault: every mail waits, as for a server that is down, with the server's reply.
 */
export function classifySmtpError(error: unknown): SendOutcome {
  const e = error as { responseCode?: number; code?: string; message?: string; response?: string };
  const message = (e.message ?? String(error)).slice(0, 500);
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH')
    return {
      kind: 'temporary',
      error: message,
      serverDown: true,
      sessionRefused: (e.response ?? message).replace(/\s+/g, ' ').slice(0, 500),
    };
  if (typeof e.responseCode === 'number' && e.responseCode >= 500)
    return { kind: 'permanent', error: message, responseCode: e.responseCode };
  const serverDown =
    e.code === 'ECONNECTION' ||
    e.code === 'ETIMEDOUT' ||
    e.code === 'ESOCKET' ||
    e.code === 'EDNS' ||
    e.code === 'ECONNREFUSED';
  return { kind: 'temporary', error: message, serverDown };
}

/** The log line's start when sending pauses: the server's refusal when it gave one, else that it is silent. */
export function serverTroubleLine(sessionRefused: string | undefined): string {
  return sessionRefused
    ? `The SMTP server refused the session (${sessionRefused}); check SMTP_URL's user, password and TLS`
    : 'The SMTP server is not answering';
}
