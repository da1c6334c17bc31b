import net from 'node:net';
import { hostname } from 'node:os';
import tls from 'node:tls';
import type { SendOutcome, SessionCheck } from './mail.transport.ts';

/**
 * A lean SMTP client pool for bulk sending of ready-made messages (see mail.mime.ts): each connection
 * sends one message at a time, MAIL/RCPT/DATA pipelined when the server offers PIPELINING (RFC 2920), the
 * whole message written at once. Supports smtps:// (implicit TLS), STARTTLS when offered (RFC 3207), and
 * AUTH PLAIN (RFC 4616) with the URL's credentials. Nodemailer stays the path for everything else
 * (DKIM signing, the outbox, one-off mails): its general composer costs milliseconds per message.
 */
export interface SmtpPoolOptions {
  url: string;
  maxConnections: number;
  connectionTimeoutMs: number;
  socketTimeoutMs: number;
  /** Messages per connection before it is replaced (keeps a long send spread over fresh connections). */
  maxMessagesPerConnection: number;
  /** Extra trusted certificate authorities (a private relay's CA); the system's are always trusted. */
  ca?: string | Buffer;
}

interface Reply {
  code: number;
  text: string;
}

class SmtpError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** One SMTP session; replies are read in order from a queue of waiters. */
class SmtpConnection {
  socket: net.Socket;
  extensions = new Set<string>();
  sent = 0;
  broken = false;
  private buffer = '';
  private lines: string[] = [];
  private replies: Reply[] = [];
  private waiters: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(socket: net.Socket, socketTimeoutMs: number) {
    this.socket = socket;
    this.attach(socket, socketTimeoutMs);
  }

  attach(socket: net.Socket, socketTimeoutMs: number): void {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(socketTimeoutMs, () =>
      socket.destroy(new SmtpError('The SMTP server did not answer in time', 'ETIMEDOUT')),
    );
    socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('latin1')));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new SmtpError('The SMTP server closed the connection', 'ECONNRESET')));
  }

  private onData(text: string): void {
    this.buffer += text;
    let index: number;
    while ((index = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, index).replace(/\r$/, '');
      this.buffer = this.buffer.slice(index + 1);
      this.lines.push(line);
      // A reply ends with a line whose fourth character is a space (RFC 5321 §4.2.1).
      if (line.length < 4 || line[3] !== '-') {
        const reply = { code: Number(line.slice(0, 3)) || 0, text: this.lines.join('\n') };
        this.lines = [];
        const waiter = this.waiters.shift();
        if (waiter) waiter.resolve(reply);
        else this.replies.push(reply);
      }
    }
  }

  private fail(error: Error): void {
    this.broken = true;
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
  }

  read(): Promise<Reply> {
    const reply = this.replies.shift();
    if (reply) return Promise.resolve(reply);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Several Buffers in one system call (a writev): corked, then flushed together. */
  writeAll(chunks: readonly Buffer[]): void {
    this.socket.cork();
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  close(): void {
    this.broken = true;
    if (!this.socket.destroyed) {
      this.socket.end('QUIT\r\n');
      this.socket.destroySoon();
    }
  }
}

export class SmtpPool {
  private readonly url: URL;
  private readonly options: SmtpPoolOptions;
  private idle: SmtpConnection[] = [];
  private open = 0;
  private queue: { resolve: (c: SmtpConnection) => void; reject: (e: Error) => void }[] = [];
  private closed = false;

  constructor(options: SmtpPoolOptions) {
    this.options = options;
    this.url = new URL(options.url);
  }

  /**
   * Sends one ready-made message (CRLF line ends, dot-stuffed already) to one recipient: one Buffer, or
   * the Buffers it is made of, in order (mail.mime.ts's `renderMimeChunks`), which are written as they are.
   */
  async send(from: string, to: string, message: Buffer | readonly Buffer[]): Promise<SendOutcome> {
    // Both go into command lines: a CR, LF or angle bracket would let one address inject a command.
    if (!envelopeAddress.test(from) || !envelopeAddress.test(to))
      return {
        kind: 'permanent',
        error: 'An envelope address with spaces, control characters or angle brackets was refused',
        responseCode: 501,
      };
    let connection: SmtpConnection;
    try {
      connection = await this.acquire();
    } catch (error) {
      const refused = sessionRefusal(error);
      return {
        kind: 'temporary',
        error: (error as Error).message,
        serverDown: true,
        ...(refused ? { sessionRefused: refused } : {}),
      };
    }
    try {
      const outcome = await this.transact(connection, from, to, message);
      this.release(connection);
      return outcome;
    } catch (error) {
      connection.broken = true;
      this.release(connection);
      const code = (error as { code?: string }).code ?? '';
      return { kind: 'temporary', error: (error as Error).message, serverDown: code === 'ETIMEDOUT' };
    }
  }

  private async transact(
    c: SmtpConnection,
    from: string,
    to: string,
    message: Buffer | readonly Buffer[],
  ): Promise<SendOutcome> {
    let mail: Reply;
    let rcpt: Reply;
    let data: Reply;
    if (c.extensions.has('PIPELINING')) {
      c.write(`MAIL FROM:<${from}>\r\nRCPT TO:<${to}>\r\nDATA\r\n`);
      mail = await c.read();
      rcpt = await c.read();
      data = await c.read();
    } else {
      mail = await c.command(`MAIL FROM:<${from}>`);
      rcpt = mail.code === 250 ? await c.command(`RCPT TO:<${to}>`) : mail;
      data = rcpt.code === 250 || rcpt.code === 251 ? await c.command('DATA') : rcpt;
    }
    const refused = [mail, rcpt].find((r) => r.code >= 400) ?? (data.code === 354 ? undefined : data);
    if (refused) {
      // A 354 despite a refused recipient: end the empty message before resetting.
      if (data.code === 354) await c.command('\r\n.');
      const reset = await c.command('RSET');
      if (reset.code !== 250) c.broken = true;
      return outcomeOf(refused);
    }
    // One system call for the message and its terminator (RFC 5321 §4.1.1.4), without copying the message.
    const chunks = Buffer.isBuffer(message) ? [message] : message;
    const last = chunks.at(-1);
    c.writeAll([...chunks, last?.[last.length - 1] === 10 ? terminator : crlfTerminator]);
    const done = await c.read();
    c.sent++;
    return done.code === 250 ? { kind: 'accepted', response: done.text } : outcomeOf(done);
  }

  /** Opens one session (greeting, EHLO, STARTTLS, login) and quits: what /readyz asks of the server. */
  async verify(): Promise<SessionCheck> {
    try {
      (await this.connect()).close();
      return { ok: true };
    } catch (error) {
      const refused = sessionRefusal(error);
      return { ok: false, error: (error as Error).message, ...(refused ? { refused } : {}) };
    }
  }

  private acquire(): Promise<SmtpConnection> {
    if (this.closed) return Promise.reject(new Error('The mail transport is closed'));
    let connection: SmtpConnection | undefined;
    while ((connection = this.idle.pop())) {
      if (!connection.broken) return Promise.resolve(connection);
      this.open--; // closed by the server while idle
    }
    if (this.open < this.options.maxConnections) {
      this.open++;
      return this.connect().catch((error: unknown) => {
        this.open--;
        throw error;
      });
    }
    return new Promise((resolve, reject) => this.queue.push({ resolve, reject }));
  }

  private release(connection: SmtpConnection): void {
    if (connection.broken || this.closed || connection.sent >= this.options.maxMessagesPerConnection) {
      connection.close();
      this.open--;
      const waiter = this.queue.shift();
      if (waiter) {
        this.open++;
        this.connect().then(waiter.resolve, (error: unknown) => {
          this.open--;
          waiter.reject(error as Error);
        });
      }
      return;
    }
    const waiter = this.queue.shift();
    if (waiter) waiter.resolve(connection);
    else this.idle.push(connection);
  }

  /** The system's CAs plus any configured one: a certificate is always verified, never waved through. */
  private tlsTrust(): tls.ConnectionOptions {
    return this.options.ca ? { ca: [...tls.rootCertificates, this.options.ca.toString()] } : {};
  }

  private async connect(): Promise<SmtpConnection> {
    const secure = this.url.protocol === 'smtps:';
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(this.url.port) || (secure ? 465 : 587);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = secure
        ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...this.tlsTrust() })
        : net.connect({ host, port });
      const timer = setTimeout(
        () => s.destroy(new SmtpError('Timed out connecting to the SMTP server', 'ETIMEDOUT')),
        this.options.connectionTimeoutMs,
      );
      s.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const c = new SmtpConnection(socket, this.options.socketTimeoutMs);
    try {
      await expect(c.read(), 220);
      await this.hello(c);
      if (!secure && c.extensions.has('STARTTLS')) {
        await expect(c.command('STARTTLS'), 220);
        socket.removeAllListeners('data');
        socket.removeAllListeners('close');
        socket.removeAllListeners('error');
        socket.setTimeout(0);
        const upgraded = await new Promise<tls.TLSSocket>((resolve, reject) => {
          const t = tls.connect({ socket, servername: net.isIP(host) ? undefined : host, ...this.tlsTrust() }, () =>
            resolve(t),
          );
          t.once('error', reject);
        });
        c.attach(upgraded, this.options.socketTimeoutMs);
        await this.hello(c);
      }
      if (this.url.username) {
        const credentials = Buffer.from(
          `\0${decodeURIComponent(this.url.username)}\0${decodeURIComponent(this.url.password)}`,
        ).toString('base64');
        await expect(c.command(`AUTH PLAIN ${credentials}`), 235);
      }
      return c;
    } catch (error) {
      c.close();
      throw error;
    }
  }

  private async hello(c: SmtpConnection): Promise<void> {
    const reply = await expect(c.command(`EHLO ${hostname() || 'localhost'}`), 250);
    c.extensions = new Set(
      reply.text
        .split('\n')
        .slice(1)
        .map((line) => line.slice(4).split(' ')[0]!.toUpperCase()),
    );
  }

  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.close();
    for (const waiter of this.queue.splice(0)) waiter.reject(new Error('The mail transport is closed'));
  }
}

const terminator = Buffer.from('.\r\n');
/** An address as MAIL FROM and RCPT TO carry it: printable ASCII without angle brackets (RFC 5321 §4.1.2). */
const envelopeAddress = /^[\x21-\x3b\x3d\x3f-\x7e]+$/;
const crlfTerminator = Buffer.from('\r\n.\r\n');

/**
 * A reply other than the one the session needs (greeting, EHLO, STARTTLS, AUTH): the server is up but will
 * not take mail from us, e.g. `535 5.7.8` for wrong credentials. Its reply is kept for the log and /readyz.
 */
async function expect(reply: Promise<Reply>, code: number): Promise<Reply> {
  const r = await reply;
  if (r.code !== code)
    throw Object.assign(
      new SmtpError(`The SMTP server refused the session: ${r.text}`, r.code >= 500 ? 'EPROTOCOL' : 'ECONNECTION'),
      { responseCode: r.code, reply: r.text },
    );
  return r;
}

/** The server's reply when it answered but refused the session; undefined when it did not answer at all. */
function sessionRefusal(error: unknown): string | undefined {
  const reply = (error as { reply?: unknown }).reply;
  return typeof reply === 'string' ? reply.replace(/\s+/g, ' ').slice(0, 500) : undefined;
}

function outcomeOf(reply: Reply): SendOutcome {
  const error = reply.text.slice(0, 500);
  return reply.code >= 500
    ? { kind: 'permanent', error, responseCode: reply.code }
    : { kind: 'temporary', error, serverDown: reply.code === 421 };
}
