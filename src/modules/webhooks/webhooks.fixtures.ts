import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** What the receiver took: only deliveries whose signature verified. */
interface Received {
  id: string;
  type: string;
  subject: string;
  revision: number | undefined;
  url: string | undefined;
}

/**
 * A webhook receiver as a customer would write one: node:http, verifying each delivery with the
 * `standardwebhooks` package against the secrets it was given; a bad signature gets a 401 and is counted.
 */
export class Receiver {
  readonly received: Received[] = [];
  rejected = 0;
  secrets: string[] = [];
  answer: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '<b>thanks</b>' };
  #server: Server | undefined;
  port = 0;

  async start(port = this.port): Promise<void> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const verified = this.secrets.every((secret) => verifies(secret, body, request.headers));
        if (!verified || this.secrets.length === 0) {
          this.rejected++;
          response.writeHead(401).end('bad signature');
          return;
        }
        const payload = JSON.parse(body) as {
          type: string;
          data: Record<string, { id: string; revision?: number; url?: string }>;
        };
        const [kind, object] = Object.entries(payload.data)[0] ?? ['', { id: '' }];
        this.received.push({
          id: String(request.headers['webhook-id']),
          type: payload.type,
          subject: `${kind}:${object.id}`,
          revision: object.revision,
          url: object.url,
        });
        response.writeHead(this.answer.status, this.answer.headers ?? {}).end(this.answer.body);
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#server = undefined;
  }
}

function verifies(secret: string, body: string, headers: IncomingHttpHeaders): boolean {
  try {
    new Webhook(secret).verify(body, headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}
