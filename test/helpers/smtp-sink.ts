import net from 'node:net';

/**
 * A minimal, fast SMTP sink for tests that send tens of thousands of messages (test/helpers/smtp.ts, built on
 * `smtp-server`, parses every message and is too slow for 100,000): it speaks just enough ESMTP for
 * Gazette's pool (EHLO with PIPELINING, MAIL, RCPT, DATA, RSET, NOOP, QUIT), never stores a message, and
 * counts what it ACCEPTED — answered 250 after the data — per recipient.
 *
 * `freeze()` holds every DATA reply from then on; `thaw()` answers the held ones, but only on connections
 * that are still open: a client killed while frozen never got a 250, so nothing it sent is counted. That
 * is what makes "exactly once" exact across a kill -9 (see delivery.crash.test.ts).
 */
export interface SmtpSink {
  readonly port: number;
  readonly url: string;
  /** Recipient → messages accepted for it. */
  readonly accepted: Map<string, number>;
  total(): number;
  /** Called after each acceptance with the running total. */
  onAccepted: ((to: string, total: number) => void) | undefined;
  duplicates(): string[];
  freeze(): void;
  /** The client-side ports of the connections the sink still counts as open. */
  openClientPorts(): number[];
  /** Answers the held messages of the connections still open (they count as accepted) and stops holding. */
  thaw(): void;
  close(): Promise<void>;
}

const terminator = Buffer.from('\r\n.\r\n');

interface Session {
  socket: net.Socket;
  open: boolean;
  recipients: string[];
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const accepted = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  let total = 0;
  let frozen = false;
  const held: { session: Session; recipients: string[] }[] = [];
  let port = 0;

  const accept = (session: Session, recipients: string[]) => {
    if (!session.open) return;
    session.socket.write('250 2.0.0 Ok: queued\r\n');
    for (const to of recipients) {
      total++;
      accepted.set(to, (accepted.get(to) ?? 0) + 1);
      sink.onAccepted?.(to, total);
    }
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    const session: Session = { socket, open: true, recipients: [] };
    const closed = () => {
      session.open = false;
      sockets.delete(socket);
    };
    socket.on('end', closed);
    socket.on('close', closed);
    socket.on('error', closed);
    socket.setNoDelay(true);
    socket.write('220 sink.test ESMTP\r\n');

    let inData = false;
    let text = '';
    /** The last bytes of the data so far, so a terminator split across chunks is still found. */
    let tail = Buffer.alloc(0);

    const endOfData = () => {
      inData = false;
      const recipients = session.recipients;
      session.recipients = [];
      if (frozen) held.push({ session, recipients });
      else accept(session, recipients);
    };

    const onCommands = (chunk: string) => {
      text += chunk;
      let index: number;
      while (!inData && (index = text.indexOf('\r\n')) !== -1) {
        const line = text.slice(0, index);
        text = text.slice(index + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
        else if (verb === 'HELO') socket.write('250 sink.test\r\n');
        else if (verb === 'MAIL') {
          session.recipients = [];
          socket.write('250 2.1.0 Ok\r\n');
        } else if (verb === 'RCPT') {
          const address = /<([^>]*)>/.exec(line)?.[1] ?? '';
          session.recipients.push(address.toLowerCase());
          socket.write('250 2.1.5 Ok\r\n');
        } else if (verb === 'DATA') {
          socket.write('354 End data with <CR><LF>.<CR><LF>\r\n');
          inData = true;
          tail = Buffer.from('\r\n');
          const rest = Buffer.from(text, 'latin1');
          text = '';
          if (rest.length > 0) onData(rest);
        } else if (verb === 'RSET' || verb === 'NOOP') {
          session.recipients = [];
          socket.write('250 2.0.0 Ok\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 2.0.0 Bye\r\n');
        } else socket.write('502 5.5.2 Command not recognised\r\n');
      }
    };

    const onData = (chunk: Buffer) => {
      const joined = Buffer.concat([tail, chunk]);
      const at = joined.indexOf(terminator);
      if (at === -1) {
        tail = joined.subarray(Math.max(0, joined.length - (terminator.length - 1)));
        return;
      }
      endOfData();
      const rest = joined.subarray(at + terminator.length);
      if (rest.length > 0) onCommands(rest.toString('latin1'));
    };

    socket.on('data', (chunk: Buffer) => {
      if (inData) onData(chunk);
      else onCommands(chunk.toString('latin1'));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;

  const sink: SmtpSink = {
    port,
    url: `smtp://127.0.0.1:${port}`,
    accepted,
    total: () => total,
    onAccepted: undefined,
    duplicates: () => [...accepted].filter(([, n]) => n > 1).map(([to]) => to),
    freeze: () => void (frozen = true),
    openClientPorts: () => [...sockets].map((socket) => socket.remotePort ?? 0),
    thaw: () => {
      frozen = false;
      for (const { session, recipients } of held.splice(0)) accept(session, recipients);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return sink;
}
