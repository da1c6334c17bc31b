import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP server for tests (the `smtp-server` package on a free loopback port). It counts the messages
 * it ACCEPTED (answered 250 to) per recipient, keeps their raw bytes when asked, and injects faults:
 * 4xx or 5xx replies per address, hung replies (the client times out), dropped connections, a delay per
 * message, going down and coming back on the same port, and freezing (holding every reply, so a test can
 * kill the client while nothing is being accepted).
 */
export interface TestSmtpServer {
  readonly port: number;
  readonly url: string;
  /** Recipient → messages accepted for it. */
  readonly accepted: Map<string, number>;
  /** Raw messages accepted, in order, when `keepRaw`. */
  readonly messages: { to: string; raw: Buffer }[];
  readonly faults: SmtpFaults;
  /** Called after each acceptance with the running total (to trigger a kill mid-send). */
  onAccepted: ((to: string, total: number) => void) | undefined;
  /** Messages accepted since the last `reset()`. */
  total(): number;
  /** Forgets what was accepted (faults stay). */
  reset(): void;
  duplicates(): string[];
  /** Hold every DATA reply from now on; held messages are never accepted. */
  freeze(): void;
  thaw(): void;
  /** Stops listening and cuts every connection (a dead server); `up()` listens again on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export interface SmtpFaults {
  /** Address → how many more times RCPT TO gets `451` (temporary). */
  temporary: Map<string, number>;
  /** Addresses refused with `550` (permanent) at RCPT TO, every time. */
  permanent: Set<string>;
  /** Address → how many more times its DATA gets no reply at all (the client's socket times out). */
  hang: Map<string, number>;
  /** Address → how many more times the connection is cut at the end of its DATA. */
  drop: Map<string, number>;
  /** Milliseconds before each DATA reply. */
  delayMs: number;
}

export async function startTestSmtpServer(
  options: { keepRaw?: boolean; auth?: { user: string; pass: string } } = {},
): Promise<TestSmtpServer> {
  const accepted = new Map<string, number>();
  const messages: { to: string; raw: Buffer }[] = [];
  const faults: SmtpFaults = {
    temporary: new Map(),
    permanent: new Set(),
    hang: new Map(),
    drop: new Map(),
    delayMs: 0,
  };
  let frozen = false;
  let isDown = false;
  let total = 0;
  let port = 0;
  let server: SMTPServer;

  const take = (map: Map<string, number>, key: string): boolean => {
    const left = map.get(key) ?? 0;
    if (left <= 0) return false;
    map.set(key, left - 1);
    return true;
  };
  const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

  const create = () => {
    const created = new SMTPServer({
      authOptional: !options.auth,
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      onAuth(auth, _session, callback) {
        if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass)
          return callback(null, { user: auth.username });
        callback(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
      },
      logger: false,
      maxClients: 1000,
      size: 10 * 1024 * 1024,
      onRcptTo(address, _session, callback) {
        const to = address.address.toLowerCase();
        if (faults.permanent.has(to)) return callback(smtpError(550, '5.1.1 No such user here'));
        if (take(faults.temporary, to)) return callback(smtpError(451, '4.3.0 Try again later'));
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const to = (session.envelope.rcptTo[0]?.address ?? '').toLowerCase();
          if (take(faults.hang, to)) return; // never answered
          if (take(faults.drop, to)) return destroyConnection(server, session);
          const finish = () => {
            if (frozen || isDown || !connectionAlive(server, session)) return; // held for ever, or cut: not accepted
            total++;
            accepted.set(to, (accepted.get(to) ?? 0) + 1);
            if (options.keepRaw) messages.push({ to, raw: Buffer.concat(chunks) });
            callback(null, 'Queued');
            result.onAccepted?.(to, total);
          };
          if (faults.delayMs > 0) setTimeout(finish, faults.delayMs);
          else finish();
        });
      },
    });
    // A client killed mid-session resets its connection: expected here, not a test failure.
    created.on('error', () => {});
    return created;
  };

  const listen = async (s: SMTPServer, at: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(at, '127.0.0.1', () => {
        const address = s.server.address();
        resolve(typeof address === 'object' && address ? address.port : at);
      });
    });

  const stop = async (s: SMTPServer) => {
    for (const connection of (s as unknown as { connections: Set<{ _socket?: { destroy(): void } }> }).connections)
      connection._socket?.destroy();
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
  };

  server = create();
  port = await listen(server, 0);

  const result: TestSmtpServer = {
    get port() {
      return port;
    },
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    accepted,
    messages,
    faults,
    onAccepted: undefined,
    total: () => total,
    reset: () => {
      accepted.clear();
      messages.length = 0;
      total = 0;
    },
    duplicates: () => [...accepted].filter(([, n]) => n > 1).map(([to]) => to),
    freeze: () => void (frozen = true),
    thaw: () => void (frozen = false),
    down: () => {
      isDown = true;
      return stop(server);
    },
    up: async () => {
      server = create();
      await listen(server, port);
      isDown = false;
    },
    close: () => stop(server),
  };
  return result;
}

function connectionAlive(server: SMTPServer, session: SMTPServerSession): boolean {
  for (const connection of (server as unknown as { connections: Set<{ id: string; _socket?: { destroyed: boolean } }> })
    .connections) {
    if (connection.id === session.id) return connection._socket?.destroyed === false;
  }
  return false;
}

function destroyConnection(server: SMTPServer, session: SMTPServerSession): void {
  for (const connection of (server as unknown as { connections: Set<{ id: string; _socket?: { destroy(): void } }> })
    .connections) {
    if (connection.id === session.id) connection._socket?.destroy();
  }
}
