import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { after, before, beforeEach, it } from 'node:test';
import { sql } from 'kysely';
import type { Db } from '../db/index.ts';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../test/helpers/databases.ts';
import { createRunner, type JobKind, type Outcome, type RunnerOptions } from './runner.ts';
import { announceWork } from './wake-ups.ts';

interface Row {
  id: number;
  status: string;
  claimed_by: string | null;
  runs: number;
}

/**
 * A tiny job kind on its own table, written the way a module's repository would: a conditional claim,
 * records and releases conditional on the claimant, renewal and a sweep.
 */
function tinyKind(
  db: Db,
  postgres: boolean,
  work: (id: number) => Promise<Outcome>,
  calls: string[] = [],
): JobKind<{ id: number }> {
  const lock = postgres ? sql` FOR UPDATE SKIP LOCKED` : sql``;
  return {
    name: 'tiny',
    async claim({ claimant, now, limit }) {
      calls.push('claim');
      const result = await sql<{ id: number }>`
        UPDATE runner_items SET status = 'running', claimed_by = ${claimant}, claimed_at = ${now.toISOString()}
        WHERE id IN (SELECT id FROM runner_items WHERE status = 'queued' AND due_at <= ${now.toISOString()} ORDER BY id LIMIT ${limit}${lock}) AND status = 'queued'
        RETURNING id`.execute(db);
      return result.rows.map((r) => ({ id: Number(r.id) })).sort((a, b) => a.id - b.id);
    },
    async run(item) {
      await sql`UPDATE runner_items SET runs = runs + 1 WHERE id = ${item.id}`.execute(db);
      return work(item.id);
    },
    async record(settled, { claimant }) {
      calls.push(`record ${settled.map((s) => s.item.id).join(',')}`);
      await db.transaction().execute(async (trx) => {
        for (const { item, outcome } of settled) {
          const status = outcome.kind === 'retry' ? 'queued' : outcome.kind;
          await sql`UPDATE runner_items SET status = ${status}, claimed_by = NULL WHERE id = ${item.id} AND claimed_by = ${claimant} AND status = 'running'`.execute(
            trx,
          );
        }
      });
    },
    async release(ids, { claimant, dueAt }) {
      await sql`UPDATE runner_items SET status = 'queued', claimed_by = NULL, due_at = ${dueAt.toISOString()} WHERE id IN (${sql.join(ids)}) AND claimed_by = ${claimant} AND status = 'running'`.execute(
        db,
      );
    },
    async renew(ids, { claimant, now }) {
      if (ids.length > 0)
        await sql`UPDATE runner_items SET claimed_at = ${now.toISOString()} WHERE id IN (${sql.join(ids)}) AND claimed_by = ${claimant} AND status = 'running'`.execute(
          db,
        );
    },
    async listClaimants() {
      const result = await sql<{
        claimed_by: string;
      }>`SELECT DISTINCT claimed_by FROM runner_items WHERE status = 'running'`.execute(db);
      return result.rows.map((r) => r.claimed_by);
    },
    async sweep({ staleBefore, deadClaimants, keep }) {
      const dead = deadClaimants.length > 0 ? sql` OR claimed_by IN (${sql.join(deadClaimants)})` : sql``;
      const kept = keep.length > 0 ? sql` AND id NOT IN (${sql.join(keep)})` : sql``;
      await sql`UPDATE runner_items SET status = 'queued', claimed_by = NULL WHERE status = 'running'${kept} AND (claimed_at < ${staleBefore.toISOString()}${dead})`.execute(
        db,
      );
    },
  };
}

const done: Outcome = { kind: 'done', result: undefined };

/** A promise with its resolve, to hold items in flight until the test lets them go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The pid of a process that has exited (so a claim naming it on this host is known dead). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describeEachDatabase('the job runner', (dialect) => {
  let t: TestDatabase;
  const quick: Partial<RunnerOptions> = { pollMs: 20, leaseMs: 60_000 };

  before(async () => {
    t = await createTestDatabase(dialect);
    await sql`CREATE TABLE runner_items (id INTEGER PRIMARY KEY, status TEXT NOT NULL, claimed_by TEXT, claimed_at TEXT, due_at TEXT NOT NULL, runs INTEGER NOT NULL DEFAULT 0)`.execute(
      t.db,
    );
  });
  after(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    await sql`DELETE FROM runner_items`.execute(t.db);
  });

  const insert = async (ids: number[], fields: { status?: string; claimed_by?: string; claimed_at?: string } = {}) => {
    for (const id of ids) {
      await sql`INSERT INTO runner_items (id, status, claimed_by, claimed_at, due_at) VALUES (${id}, ${fields.status ?? 'queued'}, ${fields.claimed_by ?? null}, ${fields.claimed_at ?? null}, ${new Date(0).toISOString()})`.execute(
        t.db,
      );
    }
  };
  const rows = async () =>
    (await sql<Row>`SELECT id, status, claimed_by, runs FROM runner_items ORDER BY id`.execute(t.db)).rows.map((r) => ({
      ...r,
      id: Number(r.id),
      runs: Number(r.runs),
    }));

  it('runs at most `lanes` items at once, each once, and records every outcome', async () => {
    await insert([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let inFlight = 0;
    let most = 0;
    const outcomes: Record<number, Outcome> = {
      4: { kind: 'failed', reason: 'bad' },
      7: { kind: 'retry', at: new Date(Date.now() + 3600_000), reason: 'later' },
    };
    const runner = createRunner(
      tinyKind(t.db, dialect === 'postgres', async (id) => {
        inFlight++;
        most = Math.max(most, inFlight);
        // The first items wait until three are in flight: overlap then does not hang on the machine's timing.
        await waitFor('three items in flight', () => most >= 3, 5_000).catch(() => {});
        inFlight--;
        return outcomes[id] ?? done;
      }),
      { options: { ...quick, lanes: 3, batchSize: 10 } },
    );
    const summary = await runner.runOnce();
    assert.equal(most, 3, 'three lanes, all busy');
    assert.deepEqual({ ...summary }, { claimed: 10, done: 8, skipped: 0, retry: 1, failed: 1, paused: 0, released: 0 });
    const after = await rows();
    assert.deepEqual(
      after.map((r) => r.runs),
      Array(10).fill(1),
    );
    assert.equal(after.find((r) => r.id === 4)?.status, 'failed');
    assert.equal(after.find((r) => r.id === 7)?.status, 'queued');
    assert.equal(after.filter((r) => r.status === 'done').length, 8);
  });

  it('group-commits records by time, each lane waiting for its own record: at most `lanes` finished and unrecorded', async () => {
    await insert(Array.from({ length: 40 }, (_, i) => i + 1));
    const calls: string[] = [];
    const kind = tinyKind(t.db, dialect === 'postgres', () => Promise.resolve(done), calls);
    let finished = 0;
    let recorded = 0;
    let most = 0;
    const run = kind.run.bind(kind);
    kind.run = async (item, ctx) => {
      const outcome = await run(item, ctx);
      finished++;
      most = Math.max(most, finished - recorded);
      return outcome;
    };
    const record = kind.record.bind(kind);
    kind.record = async (settled, ctx) => {
      await record(settled, ctx);
      recorded += settled.length;
    };
    const summary = await createRunner(kind, {
      options: { ...quick, lanes: 4, batchSize: 40, recordGroupMs: 5 },
    }).runOnce();
    assert.equal(summary.done, 40);
    const writes = calls.filter((c) => c.startsWith('record')).length;
    // Without grouping each outcome is its own write (40); how many share one depends on how the lanes' runs
    // (database writes on PostgreSQL) interleave on a loaded machine, so only "fewer" is asserted.
    assert.ok(writes < 40, `${writes} writes recorded 40 outcomes`);
    assert.ok(most <= 4, `at most 4 finished items were unrecorded at once, saw ${most}`);
    assert.ok((await rows()).every((r) => r.status === 'done' && r.runs === 1));
  });

  it("returns a dead claimant's items: an expired lease anywhere, or at once for a dead pid on this host", async () => {
    const old = new Date(Date.now() - 120_000).toISOString();
    await insert([1], { status: 'running', claimed_by: 'gone-host:1:aaaa', claimed_at: old });
    await insert([2], {
      status: 'running',
      claimed_by: `${hostname()}:${deadPid()}:bbbb`,
      claimed_at: new Date().toISOString(),
    });
    // Alive (this process) and recently renewed: not returned.
    await insert([3], {
      status: 'running',
      claimed_by: `${hostname()}:${process.pid}:cccc`,
      claimed_at: new Date().toISOString(),
    });
    const runner = createRunner(
      tinyKind(t.db, dialect === 'postgres', () => Promise.resolve(done)),
      { options: quick },
    );
    const summary = await runner.runOnce();
    assert.equal(summary.done, 2);
    assert.deepEqual(
      (await rows()).map((r) => [r.id, r.status, r.runs]),
      [
        [1, 'done', 1],
        [2, 'done', 1],
        [3, 'running', 0],
      ],
    );
  });

  it('renews the leases of the items in hand, so a slow item is not swept from a live worker', async () => {
    await insert([1]);
    const slow = gate();
    const kind = tinyKind(t.db, dialect === 'postgres', async () => (await slow.promise, done));
    const a = createRunner(kind, { options: { ...quick, leaseMs: 300 } });
    const b = createRunner(kind, { options: { ...quick, leaseMs: 300 } });
    const round = a.runOnce();
    await waitFor('item 1 in flight', async () => (await rows())[0]?.runs === 1);
    const claimedAt = async () =>
      Date.parse(
        (await sql<{ claimed_at: string }>`SELECT claimed_at FROM runner_items`.execute(t.db)).rows[0]?.claimed_at ??
          '',
      );
    const first = await claimedAt();
    // Held longer than the lease: only its renewal keeps it from looking abandoned.
    await waitFor('the lease renewed past its first expiry', async () => (await claimedAt()) > first + 300);
    assert.equal((await b.runOnce()).claimed, 0, 'another worker finds nothing to take');
    slow.open();
    assert.equal((await round).done, 1);
    assert.deepEqual(
      (await rows()).map((r) => [r.status, r.runs]),
      [['done', 1]],
    );
  });

  it('stop finishes and records the items in flight and gives the rest back', async () => {
    await insert([1, 2, 3, 4, 5, 6]);
    const hold = gate();
    let started = 0;
    const runner = createRunner(
      tinyKind(t.db, dialect === 'postgres', async () => (started++, await hold.promise, done)),
      { options: { ...quick, lanes: 2, batchSize: 6 } },
    );
    runner.start();
    await waitFor('two items in flight', () => started === 2);
    const stopped = runner.stop();
    hold.open();
    await stopped;
    const after = await rows();
    assert.deepEqual(
      after.map((r) => r.status),
      ['done', 'done', 'queued', 'queued', 'queued', 'queued'],
    );
    assert.ok(
      after.every((r) => r.claimed_by === null),
      'nothing is left claimed',
    );
    assert.equal(started, 2);
  });

  it('a failed record is owed: written before anything new is claimed, and the item is never run again', async () => {
    await insert([1]);
    const calls: string[] = [];
    const kind = tinyKind(t.db, dialect === 'postgres', () => Promise.resolve(done), calls);
    let failNext = true;
    const record = kind.record.bind(kind);
    kind.record = async (settled, ctx) => {
      if (failNext) {
        failNext = false;
        calls.push('record failed');
        throw new Error('disk full');
      }
      return record(settled, ctx);
    };
    const runner = createRunner(kind, { options: quick });
    await assert.rejects(runner.runOnce(), /disk full/);
    assert.deepEqual(
      (await rows()).map((r) => [r.status, r.runs]),
      [['running', 1]],
      'run, not recorded',
    );
    await insert([2]);
    calls.length = 0;
    const summary = await runner.runOnce();
    assert.deepEqual(calls, ['record 1', 'claim', 'record 2'], 'the owed record comes before the next claim');
    assert.equal(summary.done, 1);
    assert.deepEqual(
      (await rows()).map((r) => [r.id, r.status, r.runs]),
      [
        [1, 'done', 1],
        [2, 'done', 1],
      ],
    );
  });

  it('pauses while a dependency is down: gives the item back and claims nothing until the pause has passed', async () => {
    await insert([1, 2, 3]);
    let down = true;
    const runner = createRunner(
      tinyKind(t.db, dialect === 'postgres', () =>
        Promise.resolve<Outcome>(down ? { kind: 'paused', reason: 'server down' } : done),
      ),
      { options: { ...quick, pauseBaseMs: 200, batchSize: 3 } },
    );
    const first = await runner.runOnce();
    assert.deepEqual([first.paused, first.released], [1, 3]);
    assert.deepEqual(
      (await rows()).map((r) => [r.status, r.runs]),
      [
        ['queued', 1],
        ['queued', 0],
        ['queued', 0],
      ],
    );
    down = false;
    assert.equal((await runner.runOnce()).claimed, 0, 'paused: nothing claimed');
    await waitFor(
      'the pause to pass and the items to be done',
      async () => (await runner.runOnce(), (await rows()).every((r) => r.status === 'done')),
    );
  });

  it('wake() starts a round at once instead of waiting for the poll', async () => {
    const runner = createRunner(
      tinyKind(t.db, dialect === 'postgres', () => Promise.resolve(done)),
      { options: { ...quick, pollMs: 60_000 } },
    );
    runner.start();
    try {
      await insert([1]);
      runner.wake();
      await waitFor('the woken round', async () => (await rows())[0]?.status === 'done', 5_000);
    } finally {
      await runner.stop();
    }
  });

  it('announced work on its channel wakes the runner: in this process on SQLite, by NOTIFY on PostgreSQL', async () => {
    const channel = 'gazette_runner_test';
    const runner = createRunner(
      { ...tinyKind(t.db, dialect === 'postgres', () => Promise.resolve(done)), channel },
      { listenUrl: dialect === 'postgres' ? t.url : undefined, options: { ...quick, pollMs: 60_000 } },
    );
    const listening = async () =>
      Number(
        (
          await sql<{
            n: string;
          }>`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query = ${`LISTEN ${channel}`}`.execute(
            t.db,
          )
        ).rows[0]?.n,
      );
    runner.start();
    try {
      if (dialect === 'postgres') await waitFor('the runner LISTENing', async () => (await listening()) === 1);
      // Twice: the second comes once the runner has surely finished its first look and sleeps for the poll.
      for (const id of [1, 2]) {
        await insert([id]);
        await announceWork(t.db, channel);
        await waitFor(
          `item ${id} done, well before the poll`,
          async () => (await rows()).find((r) => r.id === id)?.status === 'done',
          5_000,
        );
      }
    } finally {
      await runner.stop();
    }
    if (dialect === 'postgres')
      await waitFor('the stopped runner to close its LISTEN connection', async () => (await listening()) === 0);
  });

  it('claims the next batch while the lanes finish a full one, so they go on without waiting for it', async () => {
    await insert(Array.from({ length: 30 }, (_, i) => i + 1));
    const calls: string[] = [];
    let inFlight = 0;
    let most = 0;
    const kind = tinyKind(
      t.db,
      dialect === 'postgres',
      async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return done;
      },
      calls,
    );
    const runner = createRunner(kind, { options: { ...quick, lanes: 2, batchSize: 10 } });
    runner.start();
    try {
      await waitFor('every item done', async () => (await rows()).every((r) => r.status === 'done'));
    } finally {
      await runner.stop();
    }
    assert.ok(most <= 2, `at most 2 in flight, saw ${most}`);
    assert.ok(
      (await rows()).every((r) => r.runs === 1),
      'each item ran once',
    );
    // The second claim comes before the first batch's last record (items 1 to 10).
    const secondClaim = calls.indexOf('claim', calls.indexOf('claim') + 1);
    const lastOfFirst = calls.findIndex(
      (c) => c.startsWith('record') && c.slice('record '.length).split(',').includes('10'),
    );
    assert.ok(secondClaim > 0 && secondClaim < lastOfFirst, `claimed ahead: ${calls.join(' | ')}`);
  });

  it('stop gives back the batch claimed ahead too, and finishes only the items in flight', async () => {
    await insert([1, 2, 3, 4, 5, 6, 7, 8]);
    const hold = gate();
    let started = 0;
    const runner = createRunner(
      tinyKind(t.db, dialect === 'postgres', async () => (started++, await hold.promise, done)),
      { options: { ...quick, lanes: 2, batchSize: 4 } },
    );
    runner.start();
    try {
      // Two lanes hold items 1 and 2; half of the batch is taken, so items 5 to 8 are claimed ahead.
      await waitFor(
        'the next batch claimed ahead',
        async () => (await rows()).filter((r) => r.status === 'running').length === 8,
      );
    } finally {
      const stopped = runner.stop();
      hold.open();
      await stopped;
    }
    const after = await rows();
    assert.deepEqual(
      after.map((r) => r.status),
      ['done', 'done', 'queued', 'queued', 'queued', 'queued', 'queued', 'queued'],
    );
    assert.ok(
      after.every((r) => r.claimed_by === null),
      'nothing is left claimed',
    );
    assert.equal(started, 2);
  });
});
