import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { countRateLimitRows, deleteExpired, takeHits } from './rate-limits.repository.ts';
import { ipSource, RateLimiter } from './rate-limits.service.ts';

describeEachDatabase('rate limits', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase(dialect);
  });
  after(() => t.drop());

  const at = (minutes: number) => new Date(Date.UTC(2026, 11, 4, 12, minutes)).toISOString();
  const takeHit = async (key: string, limit: number, now: string, expiresAt: string) =>
    ((await takeHits(t.db, [{ key, count: 1 }], limit, now, expiresAt)).get(key) ?? 0) === 1;

  it('counts up to the limit, refuses after it, and starts again when the window ends', async () => {
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await takeHit('k:a', 3, at(i), at(i + 10)));
    assert.deepEqual(results, [true, true, true, false, false]);
    assert.equal(await takeHit('k:a', 3, at(10), at(20)), true, 'the window of the first hit has ended');
    assert.equal(await takeHit('k:a', 3, at(11), at(21)), true);
  });

  it('lets exactly `limit` of many simultaneous hits through (one statement, no check-then-act)', async () => {
    const results = await Promise.all(Array.from({ length: 100 }, () => takeHit('k:burst', 5, at(0), at(15))));
    assert.equal(results.filter(Boolean).length, 5);
  });

  it('counts a batch in one statement: each key gets what still fits under the limit', async () => {
    await takeHits(t.db, [{ key: 'k:b1', count: 2 }], 5, at(0), at(15));
    const granted = await takeHits(
      t.db,
      [
        { key: 'k:b1', count: 4 },
        { key: 'k:b2', count: 9 },
        { key: 'k:b3', count: 1 },
      ],
      5,
      at(1),
      at(16),
    );
    assert.deepEqual(Object.fromEntries(granted), { 'k:b1': 3, 'k:b2': 5, 'k:b3': 1 });
    assert.deepEqual(Object.fromEntries(await takeHits(t.db, [{ key: 'k:b1', count: 1 }], 5, at(2), at(17))), {
      'k:b1': 0,
    });
    assert.deepEqual(
      Object.fromEntries(await takeHits(t.db, [{ key: 'k:b1', count: 2 }], 5, at(15), at(30))),
      { 'k:b1': 2 },
      'a new window',
    );
  });

  it('deletes expired rows a bounded batch at a time', async () => {
    for (let i = 0; i < 30; i++) await takeHit(`k:old${i}`, 1, at(0), at(1));
    const before = await countRateLimitRows(t.db);
    assert.equal(await deleteExpired(t.db, at(5), 10), 10);
    assert.equal(await countRateLimitRows(t.db), before - 10);
  });

  it('costs the same per hit and keeps rows bounded under a flood of distinct IPv6 sources', async () => {
    const limits = new RateLimiter(t.db);
    const rule = { limit: 20, windowMs: 30_000 };
    let now = Date.UTC(2026, 11, 4, 13, 0);
    // One attacker's /64 with a fresh address per hit: counted as one source, refused after 20.
    const refused = [];
    for (let i = 0; i < 60; i++)
      refused.push(await limits.hit('flood', ipSource(`2001:db8:7:7::${(i + 1).toString(16)}`), rule, new Date(now)));
    assert.equal(refused.filter((wait) => wait !== null).length, 40);
    // Many /64s, hit after hit, the clock moving on: time per hit must not grow with what was stored before,
    // and old windows are deleted as new ones come, so the rows stay near (hits per window).
    let sources = 1;
    const round = async (n: number) => {
      const started = performance.now();
      // 50 at a time, as a flood arrives (they share a transaction, as in the server).
      for (let i = 0; i < n; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) => {
            now += 100;
            return limits.hit(
              'flood',
              ipSource(`2001:db8:${sources.toString(16)}:${(i + j).toString(16)}::1`),
              rule,
              new Date(now),
            );
          }),
        );
      }
      sources++;
      return (performance.now() - started) / n;
    };
    const first = await round(600);
    const rowsAfterFirst = await countRateLimitRows(t.db);
    const second = await round(600);
    const rowsAfterSecond = await countRateLimitRows(t.db);
    console.log(
      `# ${dialect}: ${first.toFixed(3)} ms per hit, then ${second.toFixed(3)} ms; rows ${rowsAfterFirst} then ${rowsAfterSecond}`,
    );
    // A window is 300 hits long here (30 s at one hit per 100 ms); pruning lags by at most a batch or so.
    assert.ok(rowsAfterSecond <= 300 + 256 + 64 + 50, `rows ${rowsAfterSecond}`);
    assert.ok(second < first * 3 + 0.5, `per hit ${first.toFixed(3)} ms then ${second.toFixed(3)} ms`);
  });
});
