import { sql } from 'kysely';
import type { Config } from '../config.ts';
import type { Db, Dialect } from '../db/index.ts';
import { PostgresListener } from '../db/pg-listener.ts';
import { type CdnPurger, createCdnPurger } from './cdn-purge.ts';

export interface ContentVersionTable {
  /** Always 1: the one row. */
  id: number;
  /** Bumped by every `contentChanged()`, in any process. */
  version: number;
  changed_at: string;
}

export interface ContentVersionTables {
  content_version: ContentVersionTable;
}

/** The PostgreSQL channel every web process LISTENs on; the payload is the new version. */
export const contentChannel = 'gazette_content_changed';

/** What a process needs to know about a change it did not make; `log` lines never carry secrets. */
export interface ContentChangesLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface ContentChangesOptions {
  db: Db;
  dialect: Dialect;
  /** Called in this process for every change, its own and other processes' (e.g. `pages.invalidate()`). */
  onChange?: () => void;
  /**
   * Watch for other processes' changes (web processes). A worker only records and announces: false.
   * PostgreSQL: LISTEN on a dedicated connection to `listenUrl` (reconnecting), plus a slow version poll in
   * case a notification was missed while it reconnected. SQLite: a version poll every `pollMs`.
   */
  watch?: boolean;
  /** The PostgreSQL connection string for the LISTEN connection (needed to watch on PostgreSQL). */
  listenUrl?: string;
  /** Version poll interval: 1 s on SQLite (the only signal there), 30 s on PostgreSQL (a safety net). */
  pollMs?: number;
  /** Told about each change this process makes (CDN_PURGE_URL); never awaited by `contentChanged()`. */
  cdn?: CdnPurger;
  log?: ContentChangesLog;
  now?: () => Date;
}

/**
 * Cross-process cache invalidation. Whoever changes what readers can see (publishing, editing, unpublishing,
 * a legal or settings edit, the scheduled publisher in a worker) calls `contentChanged()` after the change is
 * committed. That bumps one version row in the database (durable: a process that was disconnected sees the
 * new version on its next check) and tells every web process, each of which then drops its own page cache.
 */
export interface ContentChanges {
  /** Records a change and tells every process; resolves once recorded. The CDN purge follows in the background. */
  contentChanged(): Promise<void>;
  /** Adds a listener called for every change seen by this process; returns its removal. */
  subscribe(listener: () => void): () => void;
  /** The newest version this process has seen (0 before `start()`). */
  readonly version: number;
  /** Reads the current version, then starts watching (when `watch`). */
  start(): Promise<void>;
  /** Stops watching and closes the LISTEN connection; waits (briefly) for a CDN purge in flight. */
  stop(): Promise<void>;
}

export function createContentChanges(options: ContentChangesOptions): ContentChanges {
  const { db, dialect } = options;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? { info: () => {}, warn: () => {} };
  const listeners = new Set<() => void>();
  if (options.onChange) listeners.add(options.onChange);
  const watch = options.watch ?? false;
  const pollMs = options.pollMs ?? (dialect === 'postgres' ? 30_000 : 1_000);
  let seen = 0;
  let stopped = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let listener: PostgresListener | undefined;

  const notifyLocal = () => {
    for (const l of listeners) {
      try {
        l();
      } catch (error) {
        log.warn(`A content-change listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };

  /** A version newer than the one seen means another process changed content since. */
  const observe = (version: number) => {
    if (version <= seen) return;
    seen = version;
    notifyLocal();
  };

  const readVersion = async (): Promise<number> => {
    const row = await db.selectFrom('content_version').select('version').where('id', '=', 1).executeTakeFirst();
    return Number(row?.version ?? 0);
  };

  const poll = async () => {
    try {
      observe(await readVersion());
    } catch (error) {
      // A database hiccup: the next poll tries again, and pages still expire on their own.
      log.warn(`Could not read the content version: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const schedulePoll = () => {
    if (stopped) return;
    pollTimer = setTimeout(() => void poll().finally(schedulePoll), pollMs);
    pollTimer.unref();
  };

  return {
    get version() {
      return seen;
    },
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async contentChanged() {
      const changedAt = now().toISOString();
      let version: number;
      if (dialect === 'postgres') {
        // One statement: the bump and the NOTIFY commit together, so a listener never hears of a version it
        // cannot read yet.
        const result = await sql<{ version: number }>`
          WITH bumped AS (UPDATE content_version SET version = version + 1, changed_at = ${changedAt} WHERE id = 1 RETURNING version)
          SELECT version, pg_notify(${contentChannel}, version::text) FROM bumped`.execute(db);
        version = Number(result.rows[0]?.version ?? 0);
      } else {
        const row = await db
          .updateTable('content_version')
          .set((eb) => ({ version: eb('version', '+', 1), changed_at: changedAt }))
          .where('id', '=', 1)
          .returning('version')
          .executeTakeFirst();
        version = Number(row?.version ?? 0);
      }
      // This process invalidates at once, without waiting for its own notification or poll.
      if (version > seen) seen = version;
      notifyLocal();
      options.cdn?.purge(version);
    },
    async start() {
      seen = await readVersion();
      if (!watch) return;
      if (dialect === 'postgres') {
        if (!options.listenUrl) throw new Error('createContentChanges: watching on PostgreSQL needs listenUrl');
        listener = new PostgresListener(options.listenUrl, contentChannel, {
          name: 'the content-change listener',
          onNotify: (payload) => {
            const version = Number(payload);
            if (Number.isFinite(version)) observe(version);
          },
          // Notifications sent while disconnected are lost: read the version on every (re)connection.
          onConnect: () => void poll(),
          log,
        });
        await listener.start();
      }
      schedulePoll();
    },
    async stop() {
      stopped = true;
      clearTimeout(pollTimer);
      await listener?.stop();
      await options.cdn?.stop();
    },
  };
}

/**
 * The wiring for entry points: `serve` watches (its page cache must hear of other processes' changes), a
 * worker only records and announces. Both purge the CDN for the changes they make when CDN_PURGE_URL is set.
 */
export async function startContentChanges(
  config: Pick<Config, 'database' | 'siteUrl' | 'cdnPurge'>,
  deps: { db: Db; dialect: Dialect; watch: boolean; log?: ContentChangesLog; pollMs?: number },
): Promise<ContentChanges> {
  const log = deps.log ?? { info: () => {}, warn: (message: string) => console.error(message) };
  const pollMs = deps.pollMs ?? (deps.dialect === 'postgres' ? 30_000 : 1_000);
  const cdn = config.cdnPurge
    ? createCdnPurger({
        url: config.cdnPurge.url,
        authorization: config.cdnPurge.authorization,
        siteUrl: config.siteUrl,
        // Every web process must have dropped its pages before the CDN refetches them: a NOTIFY arrives in
        // milliseconds; on SQLite the other processes notice within one poll.
        delayMs: deps.dialect === 'postgres' ? 500 : pollMs + 500,
        log,
      })
    : undefined;
  const changes = createContentChanges({
    db: deps.db,
    dialect: deps.dialect,
    watch: deps.watch,
    pollMs,
    log,
    ...(config.database.kind === 'postgres' ? { listenUrl: config.database.url } : {}),
    ...(cdn ? { cdn } : {}),
  });
  await changes.start();
  return changes;
}
