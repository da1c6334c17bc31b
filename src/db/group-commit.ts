/**
 * Group commit: many small writes that arrive together share one transaction. Each caller's promise
 * settles only after the transaction holding its item has committed, so an answer sent after it is as
 * durable as with a transaction of its own; what is saved is the per-commit cost (on SQLite the WAL write of
 * every touched page, on PostgreSQL the WAL flush), paid once per batch instead of once per item.
 *
 * Items queue while a batch is being written and go in the next one, so under load batches grow by
 * themselves and at low load an item waits only for the next turn of the event loop. A batch that fails
 * is retried item by item, so one bad item fails alone.
 */
export interface GroupCommit<T, R> {
  /** Resolves with the item's result once its batch has committed. */
  add(item: T): Promise<R>;
  /** Resolves once every item added so far is written (or has failed). */
  drain(): Promise<void>;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * `write` receives a batch and must return one result per item, in order, from inside one transaction it
 * opens itself (so that the caller's repositories stay plain functions taking `db`).
 */
export function createGroupCommit<T, R>(
  write: (items: T[]) => Promise<R[]>,
  options: { maxBatch: number },
): GroupCommit<T, R> {
  let queue: Pending<T, R>[] = [];
  let running: Promise<void> | undefined;
  let scheduled = false;

  async function writeBatch(batch: Pending<T, R>[]): Promise<void> {
    try {
      const results = await write(batch.map((p) => p.item));
      if (results.length !== batch.length)
        throw new Error(`group commit: ${results.length} results for ${batch.length} items`);
      batch.forEach((p, i) => p.resolve(results[i] as R));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // One item may be what failed the batch: each goes again in a transaction of its own.
      for (const p of batch) await writeBatch([p]);
    }
  }

  async function run(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, options.maxBatch);
      queue = queue.slice(batch.length);
      await writeBatch(batch);
    }
  }

  function schedule(): void {
    if (scheduled || running) return;
    scheduled = true;
    // setImmediate: requests that arrived in the same turn of the event loop join this batch.
    setImmediate(() => {
      scheduled = false;
      running = run().finally(() => {
        running = undefined;
        if (queue.length > 0) schedule();
      });
    });
  }

  return {
    add(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    async drain() {
      while (running || scheduled || queue.length > 0) {
        await (running ?? new Promise<void>((resolve) => setImmediate(resolve)));
      }
    },
  };
}
