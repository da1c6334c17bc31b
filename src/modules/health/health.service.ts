import { sql } from 'kysely';
import type { Db } from '../../db/index.ts';
import { pendingMigrations } from '../../db/migrate.ts';

export interface Readiness {
  ready: boolean;
  /** Why not ready, for the load balancer's logs and the operator. */
  reason?: string;
  checks: { database: string; migrations: string; mail: string };
}

export interface ReadinessDeps {
  db: Db;
  /** The mail transport's description (`smtp://host:port`, `outbox folder …`); null when none was built. */
  mail: () => string | null;
  /** True from SIGTERM on: the process is finishing its requests and will stop. */
  draining: () => boolean;
  /** Longest wait for the database before answering "not ready". */
  timeoutMs?: number;
}

/**
 * Whether this process should get traffic: not draining, its database answering, every migration this code
 * knows applied (a process started before `gazette migrate` of a newer release would otherwise serve
 * against the wrong schema), and a mail transport built. A down SMTP server does not make the site unready:
 * readers can still read, and the delivery queue waits for it.
 */
export function createReadinessCheck(deps: ReadinessDeps): () => Promise<Readiness> {
  const timeoutMs = deps.timeoutMs ?? 2000;
  // Applied migrations are never un-applied under a running process: once current, always current.
  let migrationsCurrent = false;
  return async () => {
    // /readyz is public: it names the kind of mail transport, never its host or the outbox's path on disk.
    const mail = deps.mail();
    const checks = { database: 'unknown', migrations: 'unknown', mail: mail === null ? 'not configured' : mail.startsWith('outbox') ? 'outbox' : 'smtp' };
    if (deps.draining()) return { ready: false, reason: 'shutting down', checks };
    try {
      await withTimeout(sql`SELECT 1`.execute(deps.db), timeoutMs);
      checks.database = 'ok';
    } catch {
      checks.database = 'unreachable';
      // The driver's message can name hosts and users: it stays out of a public answer.
      return { ready: false, reason: 'database unreachable', checks };
    }
    if (!migrationsCurrent) {
      const pending = await withTimeout(pendingMigrations(deps.db), timeoutMs).catch(() => ['(could not be read)']);
      if (pending.length > 0) {
        checks.migrations = `pending: ${pending.join(', ')}`;
        return { ready: false, reason: 'migrations pending: run `gazette migrate`', checks };
      }
      migrationsCurrent = true;
    }
    checks.migrations = 'ok';
    if (checks.mail === 'not configured') return { ready: false, reason: 'no mail transport', checks };
    return { ready: true, checks };
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
