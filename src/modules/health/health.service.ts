import { sql } from 'kysely';
import type { Db } from '../../db/index.ts';
import { pendingMigrations } from '../../db/migrate.ts';
import type { SessionCheck } from '../mail/index.ts';

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
  /** Opens an SMTP session and quits (MailTransport.verify); absent for the outbox. */
  verifyMail?: () => Promise<SessionCheck>;
  /** How long a mail session check stands before the next /readyz opens another. */
  mailCheckMs?: number;
  /** Where a refused mail session is reported with the server's whole reply (the answer shows its codes). */
  warn?: (line: string) => void;
  /** True from SIGTERM on: the process is finishing its requests and will stop. */
  draining: () => boolean;
  /** Longest wait for the database before answering "not ready". */
  timeoutMs?: number;
}

/**
 * Whether this process should get traffic: not draining, its database answering, every migration this code
 * knows applied (a process started before `gazette migrate` of a newer release would otherwise serve
 * against the wrong schema), and a mail transport built. A down SMTP server does not make the site unready:
 * readers can still read, and the delivery queue waits for it. An SMTP server that answers with a permanent
 * refusal of our session (5xx: wrong credentials, TLS required) does: that is this release's configuration,
 * which no waiting mends, and a rollout should stop there.
 */
export function createReadinessCheck(deps: ReadinessDeps): () => Promise<Readiness> {
  const timeoutMs = deps.timeoutMs ?? 2000;
  const mailCheckMs = deps.mailCheckMs ?? 60_000;
  let mailChecked: { at: number; result: SessionCheck } | undefined;
  let mailChecking: Promise<SessionCheck> | undefined;
  /** One SMTP session a minute at most, however often the load balancer asks; one at a time. */
  const mailSession = async (verify: () => Promise<SessionCheck>): Promise<SessionCheck> => {
    if (mailChecked && Date.now() - mailChecked.at < mailCheckMs) return mailChecked.result;
    mailChecking ??= verify()
      .catch((error: unknown): SessionCheck => ({ ok: false, error: String(error) }))
      .then((result) => {
        const refusedBefore = mailChecked?.result.ok === false && mailChecked.result.refused;
        mailChecked = { at: Date.now(), result };
        if (!result.ok && result.refused && result.refused !== refusedBefore)
          deps.warn?.(`The SMTP server refused the session: ${result.refused}`);
        return result;
      })
      .finally(() => (mailChecking = undefined));
    return withTimeout(mailChecking, timeoutMs).catch((error: unknown): SessionCheck => ({
      ok: false,
      error: String(error),
    }));
  };
  // Applied migrations are never un-applied under a running process: once current, always current.
  let migrationsCurrent = false;
  return async () => {
    // /readyz is public: it names the kind of mail transport, never its host or the outbox's path on disk.
    const mail = deps.mail();
    const checks = {
      database: 'unknown',
      migrations: 'unknown',
      mail: mail === null ? 'not configured' : mail.startsWith('outbox') ? 'outbox' : 'smtp',
    };
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
    if (checks.mail === 'smtp' && deps.verifyMail) {
      const session = await mailSession(deps.verifyMail);
      if (!session.ok) {
        // The reply's codes only (`535 5.7.8`): its free text can name the account or the host.
        const codes = session.refused
          ? /^\d{3}(?:[ -]\d\.\d{1,3}\.\d{1,3})?/.exec(session.refused)?.[0].replace('-', ' ')
          : undefined;
        checks.mail = codes ? `smtp: refused (${codes})` : 'smtp: not answering';
        if (codes?.startsWith('5'))
          return { ready: false, reason: `the SMTP server refuses our session (${codes}): check SMTP_URL`, checks };
      }
    }
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
