import { isDeadLocalClaimant, newClaimantId, settleOwedWrites } from '../db/claimants.ts';
import { listenForWork, type WorkListener } from './wake-ups.ts';

/**
 * What running one item came to. `done` and `skipped` (nothing left to do: superseded, or another worker
 * did it) end the item; `retry` puts it back due at `at`; `failed` ends it with a reason shown to people;
 * `paused` means a dependency (the SMTP server, ffmpeg) is down: the item goes back untouched and the
 * runner claims nothing more until the pause has passed. A `retry` or `failed` with `pause` is recorded,
 * and then the runner pauses too (a run of temporary failures says the server is in trouble).
 */
export type Outcome<R = undefined> =
  | { kind: 'done'; result: R }
  | { kind: 'skipped'; reason: string }
  | { kind: 'retry'; at: Date; reason: string; pause?: string }
  | { kind: 'failed'; reason: string; pause?: string }
  | { kind: 'paused'; reason: string };

/** A claimed item: its id, and whatever the claim statement re-read of its row. */
export interface Claimed {
  id: number;
}

/** An item with its outcome, as handed to `record`. */
export interface Settled<T extends Claimed, R> {
  item: T;
  outcome: Outcome<R>;
}

export interface RunContext<P> {
  claimant: string;
  /** When the batch was claimed (the instant the claim statement compared against). */
  claimedAt: Date;
  /** What `prepare` read once for the batch. */
  prepared: P;
  /** Aborted when the runner stops and the kind asked to be interrupted (`interruptOnStop`). */
  signal: AbortSignal;
}

/**
 * A job kind: what only the owning module knows. Every database function here lives in that module's
 * repository; the runner never names a table. `claim` is the claim (one conditional statement per dialect,
 * possibly after a plain read); the others must be conditional on `claimant`, so that a worker that lost its
 * claim (its lease lapsed and another took the item) changes nothing.
 */
export interface JobKind<T extends Claimed, R = undefined, P = undefined> {
  /** `scheduled-publisher`, `video-clips`, `Sign-up mails`…: starts its log lines (lower-cased within one). */
  readonly name: string;
  /**
   * Where its work is announced (`announceWork`, by whoever queues it): the runner then looks at once
   * instead of at its next poll. A PostgreSQL channel name: lower-case letters, digits and underscores.
   */
  readonly channel?: string;
  /** Claims up to `limit` due items for `claimant`; claims held since `staleBefore` count as abandoned. */
  claim(c: { claimant: string; now: Date; limit: number; staleBefore: Date }): Promise<T[]>;
  /** Reads once what every item of a batch needs (settings, recipients); runs before the first item. */
  prepare?(items: readonly T[]): Promise<P>;
  /** Does one item's work and says how it went; a throw stops the batch and gives the item back. */
  run(item: T, ctx: RunContext<P>): Promise<Outcome<R>>;
  /** Writes the outcomes (of one item, or of a group when `recordGroup` is set) in one transaction. */
  record(settled: readonly Settled<T, R>[], ctx: { claimant: string; now: Date }): Promise<void>;
  /** Gives claims back untouched, due at `dueAt` (unreached at a pause or a stop). Absent: nothing is held. */
  release?(ids: readonly number[], ctx: { claimant: string; dueAt: Date }): Promise<void>;
  /** Renews the lease of the claims in hand (only those: a claim the runner lost track of must expire). */
  renew?(ids: readonly number[], ctx: { claimant: string; now: Date }): Promise<void>;
  /** Who holds claims now: a read, so that the sweep is skipped when nobody else does. */
  listClaimants?(): Promise<string[]>;
  /** Returns to the queue claims not renewed since `staleBefore`, and every claim of `deadClaimants`, but `keep`. */
  sweep?(c: {
    claimant: string;
    now: Date;
    staleBefore: Date;
    deadClaimants: readonly string[];
    keep: readonly number[];
  }): Promise<void>;
  /**
   * After every round, an empty one too, once its batch is run and recorded (e.g. announce that readers'
   * pages changed, or mark an issue whose queue is empty as sent). `full`: the batch was `batchSize` long.
   */
  afterRound?(
    settled: readonly Settled<T, R>[],
    round: { claimed: number; full: boolean; stopping: boolean },
  ): Promise<void>;
  /** The log line of a pause (default: `<reason>; <name> wait <s> s (nothing is lost).`). */
  describePause?(reason: string, seconds: number): string;
}

export interface RunnerOptions {
  /** `hostname:pid:random`, written into each claim. */
  claimant: string;
  /** Items in flight at once. */
  lanes: number;
  /** Items claimed per statement. */
  batchSize: number;
  /** A claim not renewed for this long belongs to a process that died; renewed every third of it. 0: no leases. */
  leaseMs: number;
  /** How often the queue is read when idle (retries, and what a dead process left). */
  pollMs: number;
  /** Polls fall on multiples of pollMs of the wall clock, the same instants in every process. */
  alignPoll: boolean;
  /** The poll alone does not keep the process alive (in a web process). */
  unrefPoll: boolean;
  /** First pause while a dependency is down; doubles up to pauseMaxMs. */
  pauseBaseMs: number;
  pauseMaxMs: number;
  /**
   * Outcomes are recorded in group commits, one written at most this often, and at once when every lane is
   * waiting for it (nothing more can join); 0: whatever arrived in the same turn of the event loop.
   * Undefined: each outcome in its own write.
   */
  recordGroupMs: number | undefined;
  /** On stop, abort the items in flight (`ctx.signal`) and give them back instead of finishing them. */
  interruptOnStop: boolean;
  /**
   * While the lanes work a full batch, claim and prepare the next one, so that they go on without waiting
   * for the claim. Only where it can apply: a claim that holds its items (`leaseMs` and `release`), and
   * batches longer than the lanes (a batch of one clip has nothing to overlap).
   */
  prefetch: boolean;
}

/** What one round did. */
export interface RoundSummary {
  claimed: number;
  done: number;
  skipped: number;
  retry: number;
  failed: number;
  paused: number;
  /** Given back untouched (a pause, a stop, an error). */
  released: number;
}

export interface Runner {
  readonly claimant: string;
  /** Work has arrived: look at the queue now instead of at the next poll. */
  wake(): void;
  /** One round: settles what is owed, sweeps, claims one batch, runs and records it. */
  runOnce(): Promise<RoundSummary>;
  start(): void;
  /** Stops claiming, finishes and records the items in flight (or interrupts them), gives the rest back. */
  stop(): Promise<void>;
}

export interface RunnerDeps {
  /** PostgreSQL's connection string: the runner LISTENs there for its kind's `channel`, on a connection of its own. */
  listenUrl?: string | undefined;
  now?: () => Date;
  log?: { info: (line: string) => void; warn: (line: string) => void };
  options?: Partial<RunnerOptions>;
}

const defaults: Omit<RunnerOptions, 'claimant'> = {
  lanes: 1,
  batchSize: 100,
  leaseMs: 60_000,
  pollMs: 1_000,
  alignPoll: false,
  unrefPoll: false,
  pauseBaseMs: 1_000,
  pauseMaxMs: 60_000,
  recordGroupMs: undefined,
  interruptOnStop: false,
  prefetch: true,
};

/** A claimed batch while it is worked. */
interface Batch<T extends Claimed, R, P> {
  items: T[];
  /** The first item no lane has taken yet. */
  next: number;
  /** Items not yet recorded: at 0, with every item taken, the batch has ended. */
  unsettled: number;
  /** Set once `prepare` has read what the batch needs; lanes take its items only then. */
  ctx: RunContext<P> | undefined;
  recorded: Settled<T, R>[];
  /** Its `afterRound` is on its way. */
  ended: boolean;
  /** The next batch's claim has been started from this one. */
  prefetched: boolean;
}

/**
 * The one runner for claimed background work (docs/decisions/0009-one-job-runner.md). It owns the loop and
 * the rules every queue shares: lanes, leases and their renewal, the sweep of dead claimants, pausing while a
 * dependency is down, wake-up, group commit of records, the owed-writes rule and the drain on stop. The job
 * kind owns its table and what an item means.
 */
export function createRunner<T extends Claimed, R = undefined, P = undefined>(
  kind: JobKind<T, R, P>,
  deps: RunnerDeps = {},
): Runner {
  const options: RunnerOptions = { claimant: newClaimantId(), ...defaults, ...deps.options };
  const claimant = options.claimant;
  const now = () => deps.now?.() ?? new Date();
  const log = deps.log ?? { info: () => {}, warn: () => {} };
  const lanes = Math.max(1, options.lanes);
  const prefetching =
    options.prefetch && options.leaseMs > 0 && kind.release !== undefined && options.batchSize > lanes;
  /**
   * Items of the batch in hand not yet taken by a lane when the next claim starts: half the batch. The claim
   * and `prepare` then have the time the lanes take for that half (a claim of 1,000 deliveries with its
   * recipients' re-check took ~90 ms on a loaded PostgreSQL, ~60 messages' worth per lane at 32 lanes).
   */
  const prefetchAt = Math.max(lanes, Math.floor(options.batchSize / 2));

  let stopping = false;
  let pausedUntil = 0;
  let pauseMs = 0;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  /** Set by wake() while a round runs, so the loop goes again instead of sleeping. */
  let woken = false;
  let lastSweep = 0;
  let abort = new AbortController();
  let listener: WorkListener | undefined;

  /**
   * The items in hand: claimed, and their outcome not yet written. Only these are renewed and kept from the
   * sweep; a claim that drops out of it without its record expires and goes back to the queue.
   */
  const held = new Set<number>();
  /**
   * Writes that failed (a full disk, a lost database), owed before anything new is claimed: outcomes to
   * record (an accepted mail must be recorded `sent`, never sent again), and claims to give back.
   */
  const owedRecords = new Map<number, Settled<T, R>>();
  const owedRelease = new Set<number>();

  const recordEach = (settled: readonly Settled<T, R>[]) => kind.record(settled, { claimant, now: now() });
  /** Lanes working now: a group is written at once when each of them waits for it. */
  let activeLanes = 0;
  /**
   * With `recordGroupMs`, the lanes' outcomes share writes; each lane waits for its record before it takes
   * another item, so at most `lanes` finished items are ever unrecorded (what a crash could repeat), as with
   * one write each, at a fraction of the commits.
   */
  const recordOne =
    options.recordGroupMs === undefined
      ? (entry: Settled<T, R>) => recordEach([entry])
      : createRecordGroup(recordEach, options.recordGroupMs, () => activeLanes);

  /** Writes what is owed; throws (with the database's own error) while it still cannot. */
  function settleOwed(): Promise<void> {
    return settleOwedWrites(
      [
        [owedRecords, (ids) => recordEach(ids.flatMap((id) => owedRecords.get(id) ?? []))],
        [owedRelease, (ids) => kind.release?.(ids, { claimant, dueAt: now() }) ?? Promise.resolve()],
      ],
      held,
    );
  }

  async function sweep(at: Date): Promise<void> {
    if (!kind.sweep || options.leaseMs <= 0) return;
    if (lastSweep !== 0 && Date.now() - lastSweep < options.leaseMs / 4) return;
    lastSweep = Date.now();
    let dead: string[] = [];
    if (kind.listClaimants) {
      // A read first: the usual answer is "no claims", or only the ones this process is working on.
      const claimants = await kind.listClaimants();
      if (!claimants.some((c) => c !== claimant) && !(claimants.includes(claimant) && held.size === 0)) return;
      dead = claimants.filter((c) => c !== claimant && isDeadLocalClaimant(c));
    }
    await kind.sweep({
      claimant,
      now: at,
      staleBefore: new Date(at.getTime() - options.leaseMs),
      deadClaimants: dead,
      keep: [...held],
    });
  }

  /**
   * One round: the lanes work `first` and, with `prefetch`, the batches claimed after it while they ran
   * (see `prefetchAt`), until a claim comes back short, or a pause, a stop or an error ends it. Resolves with
   * what the round did, and whether its last claim was full (more may be waiting).
   */
  async function runRound(
    first: T[],
    claimedAt: Date,
    prefetch: boolean,
  ): Promise<{ summary: RoundSummary; full: boolean }> {
    const summary: RoundSummary = { claimed: 0, done: 0, skipped: 0, retry: 0, failed: 0, paused: 0, released: 0 };
    /** Every batch of the round in claim order; lanes take items from `batches[current]` and on. */
    const batches: Batch<T, R, P>[] = [];
    let current = 0;
    /** The next batch's claim and `prepare`, while they run. */
    let claiming: Promise<void> | undefined;
    let full = false;
    let failure: unknown;
    let paused: string | undefined;
    /** Batches whose every item was recorded before the round ended: their `afterRound`s, in order. */
    let ended: Promise<void> = Promise.resolve();

    const open = async (items: T[], at: Date) => {
      summary.claimed += items.length;
      full = items.length === options.batchSize;
      const batch: Batch<T, R, P> = {
        items,
        next: 0,
        unsettled: items.length,
        ctx: undefined,
        recorded: [],
        ended: false,
        prefetched: false,
      };
      for (const item of items) held.add(item.id);
      batches.push(batch);
      if (items.length === 0) return;
      try {
        const prepared = (kind.prepare ? await kind.prepare(items) : undefined) as P;
        batch.ctx = { claimant, claimedAt: at, prepared, signal: abort.signal };
      } catch (error) {
        failure ??= error;
      }
    };

    /** Claims the next batch while the lanes finish this one: nothing is claimed while writes are owed. */
    const claimNext = async () => {
      try {
        const at = now();
        await sweep(at);
        const items = await kind.claim({
          claimant,
          now: at,
          limit: options.batchSize,
          staleBefore: new Date(at.getTime() - options.leaseMs),
        });
        await open(items, at);
      } catch (error) {
        failure ??= error;
      } finally {
        claiming = undefined;
      }
    };

    /** The next item for a lane, waiting for the next batch's claim if one is on its way. */
    const take = async (): Promise<[Batch<T, R, P>, T] | undefined> => {
      for (;;) {
        if (paused !== undefined || stopping || failure !== undefined) return undefined;
        while (current < batches.length - 1 && (batches[current]?.next ?? 0) >= (batches[current]?.items.length ?? 0))
          current++;
        const batch = batches[current];
        const item = batch?.ctx ? batch.items[batch.next] : undefined;
        if (batch && item) {
          batch.next++;
          const left = batch.items.length - batch.next;
          if (
            prefetch &&
            !batch.prefetched &&
            batch.items.length === options.batchSize &&
            left <= prefetchAt &&
            owedRecords.size === 0 &&
            owedRelease.size === 0
          ) {
            batch.prefetched = true;
            claiming = claimNext();
          }
          return [batch, item];
        }
        if (!claiming) return undefined;
        // Waiting for a claim, not for a record: a group commit need not wait for this lane.
        activeLanes--;
        try {
          await claiming;
        } finally {
          activeLanes++;
        }
      }
    };

    const end = (batch: Batch<T, R, P>) => {
      batch.ended = true;
      const round = { claimed: batch.items.length, full: batch.items.length === options.batchSize, stopping };
      ended = ended
        .then(() => kind.afterRound?.(batch.recorded, round))
        .catch((error: unknown) => void (failure ??= error));
    };

    await open(first, claimedAt);
    if (first.length === 0) {
      await kind.afterRound?.([], { claimed: 0, full: false, stopping });
      return { summary, full: false };
    }
    const renew =
      kind.renew && options.leaseMs > 0
        ? setInterval(() => void kind.renew?.([...held], { claimant, now: now() }).catch(() => {}), options.leaseMs / 3)
        : undefined;
    try {
      // A lane that meets an error or a pause stops them all, but every lane ends before claims are settled.
      const lane = async () => {
        activeLanes++;
        try {
          for (;;) {
            const taken = await take();
            if (!taken) return;
            const [batch, item] = taken;
            let outcome: Outcome<R>;
            try {
              outcome = await kind.run(item, batch.ctx as RunContext<P>);
            } catch (error) {
              // Stays held: given back below with the items no lane reached.
              if (!(stopping && options.interruptOnStop)) failure ??= error;
              return;
            }
            if (outcome.kind === 'paused') {
              paused ??= outcome.reason;
              summary.paused++;
              continue; // given back below, untouched
            }
            const entry = { item, outcome };
            try {
              await recordOne(entry);
              held.delete(item.id);
              batch.recorded.push(entry);
              summary[outcome.kind]++;
              if ((outcome.kind === 'retry' || outcome.kind === 'failed') && outcome.pause !== undefined)
                paused ??= outcome.pause;
            } catch (error) {
              failure ??= error;
              owedRecords.set(item.id, entry);
              continue;
            }
            // Every item of the batch recorded: its afterRound need not wait for the rest of the round.
            if (--batch.unsettled === 0 && batch.next === batch.items.length) end(batch);
          }
        } finally {
          activeLanes--;
        }
      };
      await Promise.all(Array.from({ length: Math.min(lanes, first.length) }, lane));
      // Stopped, paused or failed while the next batch was being claimed: its items are given back below.
      await claiming;
    } finally {
      clearInterval(renew);
    }
    if (paused !== undefined) {
      pauseMs = Math.min(options.pauseMaxMs, pauseMs === 0 ? options.pauseBaseMs : pauseMs * 2);
      pausedUntil = Date.now() + pauseMs;
      const seconds = Math.round(pauseMs / 100) / 10;
      log.warn(
        kind.describePause?.(paused, seconds) ??
          `${paused}; ${kind.name.toLowerCase()} wait ${seconds} s (nothing is lost).`,
      );
    } else pauseMs = 0;
    // What the lanes did not finish (a pause, a stop, an error) goes back untouched, due after the pause.
    const unfinished = batches.filter((b) => !b.ended);
    const unsent = unfinished
      .flatMap((b) => b.items.map((i) => i.id))
      .filter((id) => held.has(id) && !owedRecords.has(id));
    if (unsent.length > 0 && kind.release) {
      try {
        await kind.release(unsent, { claimant, dueAt: new Date(now().getTime() + pauseMs) });
        for (const id of unsent) held.delete(id);
        summary.released += unsent.length;
      } catch (error) {
        failure ??= error;
        for (const id of unsent) owedRelease.add(id);
      }
    } else for (const id of unsent) held.delete(id);
    for (const batch of unfinished) end(batch);
    await ended;
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(describeError(failure));
    return { summary, full };
  }

  /** Settles what is owed, sweeps and claims; then the round (see runRound). */
  async function round(prefetch: boolean): Promise<{ summary: RoundSummary; full: boolean }> {
    if (Date.now() < pausedUntil) return runRound([], now(), false);
    await settleOwed();
    const at = now();
    await sweep(at);
    const items = await kind.claim({
      claimant,
      now: at,
      limit: options.batchSize,
      staleBefore: new Date(at.getTime() - options.leaseMs),
    });
    return runRound(items, at, prefetch);
  }

  async function runOnce(): Promise<RoundSummary> {
    return (await round(false)).summary;
  }

  function nextPollMs(): number {
    const poll = options.alignPoll ? options.pollMs - (Date.now() % options.pollMs) : options.pollMs;
    return Math.max(poll, pausedUntil - Date.now());
  }

  async function run(): Promise<void> {
    while (!stopping) {
      woken = false;
      let full = false;
      try {
        full = (await round(prefetching)).full;
      } catch (error) {
        log.warn(`${kind.name}: ${describeError(error)}`);
      }
      // A full batch means more may be waiting; a wake-up during the round means new work came.
      if (stopping || ((full || woken) && Date.now() >= pausedUntil)) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, nextPollMs());
        if (options.unrefPoll) timer.unref();
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  }

  function wake(): void {
    woken = true;
    if (Date.now() >= pausedUntil) wakeUp?.();
  }

  return {
    claimant,
    wake,
    runOnce,
    start() {
      if (loop) return;
      stopping = false;
      abort = new AbortController();
      if (kind.channel)
        listener = listenForWork(kind.channel, wake, {
          listenUrl: deps.listenUrl,
          name: `the ${kind.name.toLowerCase()} wake-up listener`,
          log,
        });
      loop = run().finally(() => (loop = undefined));
    },
    async stop() {
      stopping = true;
      if (options.interruptOnStop) abort.abort();
      const closing = listener?.close();
      listener = undefined;
      wakeUp?.();
      await Promise.all([loop, closing]);
      // One last try; what stays owed expires and is given back by a later sweep (it may then be repeated).
      await settleOwed().catch((error: unknown) => log.warn(`${kind.name}: ${describeError(error)}`));
    },
  };
}

/**
 * A group commit by time: outcomes wait for one write at most `groupMs` after the previous one began, or
 * less when every lane is already waiting. While an outside server is the limit its replies come one at a
 * time, and a commit each cost ~250 µs of SQLite per message (a WAL commit writes every page the update
 * touched); 10 ms gathers ~15 rows at 1,500 messages/s. A failed write rejects every outcome in it: each
 * becomes owed. Items arriving while a group is written go in the next one.
 */
function createRecordGroup<E>(
  write: (entries: E[]) => Promise<void>,
  groupMs: number,
  waitingLanes: () => number,
): (entry: E) => Promise<void> {
  let pending: E[] = [];
  let flush: Promise<void> | undefined;
  let flushSoon: (() => void) | undefined;
  let lastFlushAt = -Infinity;
  return (entry) => {
    pending.push(entry);
    if (!flush) {
      const wait = lastFlushAt + groupMs - performance.now();
      flush = new Promise<void>((resolve) => {
        if (wait <= 0) return void setImmediate(resolve);
        const timer = setTimeout(resolve, wait);
        flushSoon = () => {
          clearTimeout(timer);
          resolve();
        };
      }).then(() => {
        const group = pending;
        pending = [];
        flush = undefined;
        flushSoon = undefined;
        lastFlushAt = performance.now();
        return write(group);
      });
    } else if (pending.length >= waitingLanes()) flushSoon?.();
    return flush;
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
