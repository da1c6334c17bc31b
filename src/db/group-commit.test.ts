import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGroupCommit } from './group-commit.ts';

describe('group commit', () => {
  it('writes what arrives together as one batch, and answers each caller with its own result', async () => {
    const batches: number[][] = [];
    const commit = createGroupCommit(
      (items: number[]) => (batches.push(items), Promise.resolve(items.map((n) => n * 10))),
      { maxBatch: 100 },
    );
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => commit.add(i)));
    assert.deepEqual(
      results,
      Array.from({ length: 40 }, (_, i) => i * 10),
    );
    assert.deepEqual(batches, [Array.from({ length: 40 }, (_, i) => i)]);
  });

  it('queues what arrives during a write for the next batch, never more than maxBatch at once', async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const commit = createGroupCommit(
      async (items: number[]) => {
        batches.push(items);
        if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return items;
      },
      { maxBatch: 3 },
    );
    const first = commit.add(0);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [1, 2, 3, 4, 5].map((n) => commit.add(n));
    release();
    assert.deepEqual(await Promise.all([first, ...rest]), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(batches, [[0], [1, 2, 3], [4, 5]]);
  });

  it('a failed batch is retried item by item, so only the bad item fails', async () => {
    const commit = createGroupCommit(
      (items: number[]) => (items.includes(13) ? Promise.reject(new Error('unlucky')) : Promise.resolve(items)),
      { maxBatch: 100 },
    );
    const outcomes = await Promise.allSettled([12, 13, 14].map((n) => commit.add(n)));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    await commit.drain();
  });
});
