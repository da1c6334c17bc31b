import pg from 'pg';

export interface ListenerLog {
  warn(message: string): void;
}

export interface PostgresListenerHandlers {
  /** Said in log lines: `the content-change listener`, `the deliveries' wake-up listener`. */
  name: string;
  onNotify: (payload: string) => void;
  /** Called on every (re)connection: notifications sent while disconnected are lost, so look again now. */
  onConnect: () => void;
  log: ListenerLog;
}

/**
 * A LISTEN connection that survives PostgreSQL restarts and dropped connections: on an error or end it
 * reconnects with backoff (0.25 s doubling to 10 s) and LISTENs again. It is its own client, outside the
 * query pool, because a pooled connection may be handed to someone else between notifications.
 */
export class PostgresListener {
  #client: pg.Client | undefined;
  #stopped = false;
  #retryMs = 250;
  #timer: NodeJS.Timeout | undefined;
  readonly #url: string;
  readonly #channel: string;
  readonly #handlers: PostgresListenerHandlers;

  /** `channel` is an identifier of lower-case letters, digits and underscores (it is not quoted). */
  constructor(url: string, channel: string, handlers: PostgresListenerHandlers) {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`PostgresListener: not a plain channel name: ${channel}`);
    this.#url = url;
    this.#channel = channel;
    this.#handlers = handlers;
  }

  /** Resolves once listening, or once the first attempt failed (it keeps retrying in the background). */
  async start(): Promise<void> {
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 5000, keepAlive: true });
    let failed = false;
    const fail = (error?: Error) => {
      if (failed) return;
      failed = true;
      if (this.#client === client) this.#client = undefined;
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      if (this.#stopped) return;
      const name = this.#handlers.name.charAt(0).toUpperCase() + this.#handlers.name.slice(1);
      this.#handlers.log.warn(
        `${name} lost PostgreSQL (${error?.message ?? 'connection ended'}); reconnecting in ${this.#retryMs} ms.`,
      );
      this.#timer = setTimeout(() => void this.#connect(), this.#retryMs);
      this.#timer.unref();
      this.#retryMs = Math.min(10_000, this.#retryMs * 2);
    };
    client.on('error', fail);
    client.on('end', () => fail());
    client.on('notification', (message) => {
      if (message.channel === this.#channel) this.#handlers.onNotify(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.#channel}`);
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.#stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#retryMs = 250;
    this.#handlers.onConnect();
  }
}
