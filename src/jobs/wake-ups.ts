import { PostgresAdapter, sql } from 'kysely';
import type { Db } from '../db/index.ts';
import { type ListenerLog, PostgresListener } from '../db/pg-listener.ts';

/** This process's runners by channel: on SQLite, the only ones an announcement can reach. */
const inProcess = new Map<string, Set<() => void>>();

/**
 * Work for a job kind has been committed: its runners should look now rather than at their next poll. On
 * PostgreSQL a NOTIFY on `channel` reaches every process LISTENing (this one too); on SQLite, where
 * processes share no channel, the runners of this process are woken. Call it after the commit, or inside
 * the transaction on PostgreSQL (a NOTIFY is delivered at commit). A lost wake-up costs only time: every
 * runner still polls.
 */
export async function announceWork(db: Db, channel: string): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) await sql`SELECT pg_notify(${channel}, '')`.execute(db);
  else for (const wake of inProcess.get(channel) ?? []) wake();
}

export interface WorkListener {
  /** Stops listening; closes the LISTEN connection. */
  close(): Promise<void>;
}

/**
 * Calls `onWork` when work is announced on `channel` in this process, and with `listenUrl` (PostgreSQL)
 * when any process announces it: a connection of its own LISTENs, reconnecting after an error, and calls
 * `onWork` on every (re)connection too, since a notification sent while it was away is lost.
 */
export function listenForWork(
  channel: string,
  onWork: () => void,
  options: { listenUrl?: string | undefined; name: string; log: ListenerLog },
): WorkListener {
  let wakes = inProcess.get(channel);
  if (!wakes) inProcess.set(channel, (wakes = new Set()));
  wakes.add(onWork);
  const listener = options.listenUrl
    ? new PostgresListener(options.listenUrl, channel, {
        name: options.name,
        onNotify: onWork,
        onConnect: onWork,
        log: options.log,
      })
    : undefined;
  // Never rejects: a failed first connection is logged and retried in the background.
  void listener?.start();
  return {
    async close() {
      wakes.delete(onWork);
      if (wakes.size === 0) inProcess.delete(channel);
      await listener?.stop();
    },
  };
}
