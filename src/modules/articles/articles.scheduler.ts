import { hostname } from 'node:os';
import type { Db } from '../../db/index.ts';
import { claimScheduledPublication, findDueScheduled } from './articles.editor.repository.ts';

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
  const now = deps.now ?? (() => new Date());
  const intervalMs = deps.intervalMs ?? defaultSchedulerIntervalMs;
  const by = `scheduled-publisher (pid ${process.pid} on ${hostname()})`;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;

  const runOnce = async (): Promise<number> => {
    const at = now().toISOString();
    let published = 0;
    for (const { id } of await findDueScheduled(deps.db, at)) {
      if (await claimScheduledPublication(deps.db, id, at, by)) {
        published++;
        deps.log(`scheduled-publisher: published article ${id}`);
      }
    }
    if (published > 0) await deps.contentChanged();
    return published;
  };

  const tick = () => {
    running = runOnce()
      .catch((error: unknown) => deps.log(`scheduled-publisher: round failed, will retry: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        // Rounds fall on multiples of the interval of the wall clock, the same instants in every process:
        // that costs nothing and means a race for an article is the normal case, which the claim settles.
        if (!stopped) timer = setTimeout(tick, intervalMs - (Date.now() % intervalMs));
      });
  };

  return {
    name: 'scheduled-publisher',
    start: () => {
      if (!stopped) return;
      stopped = false;
      tick();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    runOnce,
  };
}
