import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { findImport, insertImport, updateImport } from './subscribers.imports.repository.ts';

describeEachDatabase('subscriber imports', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase(dialect);
  });
  after(() => t.drop());

  it('records an import, its progress and its end', async () => {
    const at = '2026-12-04T14:00:00.000Z';
    const id = await insertImport(t.db, {
      status: 'running',
      file_name: 'a.csv',
      source: 'fair',
      started_by: 'e@example.com',
      started_at: at,
      size: 40_000_000_000,
      claimed_by: 'h:1:a',
      heartbeat_at: at,
    });
    await updateImport(t.db, id, {
      bytes_read: 20_000_000_000,
      rows: 500,
      summary: '{"imported":500}',
      heartbeat_at: '2026-12-04T14:00:05.000Z',
    });
    const running = await findImport(t.db, id);
    assert.equal(running?.status, 'running');
    assert.equal(Number(running?.size), 40_000_000_000, 'sizes past 2 GiB fit');
    assert.equal(Number(running?.bytes_read), 20_000_000_000);
    assert.equal(running?.rows, 500);
    assert.equal(running?.bad_rows, '[]');
    await updateImport(t.db, id, { status: 'done', finished_at: '2026-12-04T14:01:00.000Z' });
    assert.equal((await findImport(t.db, id))?.status, 'done');
    assert.equal(await findImport(t.db, id + 1000), undefined);
  });
});
