import { hostname } from 'node:os';
import type { Db } from '../../db/index.ts';
import { createRunner, type JobKind } from '../../jobs/runner.ts';
import { claimScheduledPublication, findDueScheduled } from './articles.editor.repository.ts';
import { emitArticleEvents } from './articles.events.ts';

export interface ScheduledPublisherDeps {
  db: Db;
  now?: () => Date;
  /** Called once after a round that published anything (readers' pages changed). */
  contentChanged: () => Promise<void>;
  log: (line: string) => void;
  /** How often to look for due articles; an article goes out at most this long after its time. */
  intervalMs?: number;
}

/** The worker job's shape (see BackgroundJob in src/worker.ts), plus one round on demand for tests. */
export interface ScheduledPublisher {
  readonly name: 'scheduled-publisher';
  start(): void;
  stop(): Promise<void>;
  /** One round: publishes every due scheduled article this process wins; returns how many. */
  runOnce(): Promise<number>;
}

export const defaultSchedulerIntervalMs = 5000;

/**
 * `scheduled-publisher`: every few seconds, publishes scheduled articles whose time has come. Each is
 * claimed by a conditional UPDATE (`status = 'scheduled' AND scheduled_at <= now`), so with several workers
 * on one database exactly one publishes it, and a restart simply finds what is still due: nothing is held
 * in memory between rounds. The winner records a `published` revision naming this process.
 */
export function createScheduledPublisher(deps: ScheduledPublisherDeps): ScheduledPublisher {
  const by = `scheduled-publisher (pid ${process.pid} on ${hostname()})`;
  const kind: JobKind<{ id: number }> = {
    name: 'scheduled-publisher',
    // A read: the claim is the publication itself, one conditional UPDATE per article in `run`.
    claim: ({ now, limit }) => findDueScheduled(deps.db, now.toISOString(), limit),
    async run({ id }, { claimedAt }) {
      // Its `post.published` webhook event is queued in the publication's own transaction.
      const published = (trx: Db) => emitArticleEvents(trx, [{ articleId: id, type: 'post.published' }], claimedAt);
      if (!(await claimScheduledPublication(deps.db, id, claimedAt.toISOString(), by, published)))
        return { kind: 'skipped', reason: 'published by another worker' };
      deps.log(`scheduled-publisher: published article ${id}`);
      return { kind: 'done', result: undefined };
    },
    // The publication and its revision were written in the claim's own transaction.
    record: () => Promise.resolve(),
    afterRound: (settled) =>
      settled.some((s) => s.outcome.kind === 'done') ? deps.contentChanged() : Promise.resolve(),
  };
  const runner = createRunner(kind, {
    now: deps.now,
    log: { info: deps.log, warn: (line) => deps.log(`${line} (will retry)`) },
    // No lease: nothing is held between the claim and its record. Rounds fall on multiples of the interval
    // of the wall clock, the same instants in every process: that costs nothing and means a race for an
    // article is the normal case, which the claim settles.
    options: {
      lanes: 1,
      batchSize: 50,
      leaseMs: 0,
      pollMs: deps.intervalMs ?? defaultSchedulerIntervalMs,
      alignPoll: true,
    },
  });
  return {
    name: 'scheduled-publisher',
    start: () => runner.start(),
    stop: () => runner.stop(),
    runOnce: async () => (await runner.runOnce()).done,
  };
}
