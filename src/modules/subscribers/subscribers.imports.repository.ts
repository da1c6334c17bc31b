import type { Db } from '../../db/index.ts';
import type { SubscriberImportsTable } from './subscribers.table.ts';

// SQL of the newsroom's CSV imports (one row per import, written as it progresses).

export type ImportRow = { [K in keyof SubscriberImportsTable]: K extends 'id' ? number : SubscriberImportsTable[K] };

export async function insertImport(
  db: Db,
  row: Omit<ImportRow, 'id' | 'finished_at' | 'bytes_read' | 'rows' | 'summary' | 'bad_rows' | 'error'>,
): Promise<number> {
  const inserted = await db
    .insertInto('subscriber_imports')
    .values({ ...row, bytes_read: 0, rows: 0, bad_rows: '[]' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(inserted.id);
}

/** Progress, or the end (`status` then `done` or `failed`); each write is the import's heartbeat. */
export async function updateImport(
  db: Db,
  id: number,
  change: Partial<
    Pick<
      ImportRow,
      'status' | 'bytes_read' | 'rows' | 'summary' | 'bad_rows' | 'error' | 'finished_at' | 'heartbeat_at'
    >
  >,
): Promise<void> {
  await db.updateTable('subscriber_imports').set(change).where('id', '=', id).execute();
}

export async function findImport(db: Db, id: number): Promise<ImportRow | undefined> {
  const row = await db.selectFrom('subscriber_imports').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? { ...row, id: Number(row.id) } : undefined;
}
