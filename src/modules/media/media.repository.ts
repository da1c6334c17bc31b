import type { Db } from '../../db/index.ts';
import type { MediaRow, NewMedia } from './media.table.ts';

/** Media rows by id, for hydrating a page's articles in one query. */
export async function findMediaByIds(db: Db, ids: readonly number[]): Promise<MediaRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('media').selectAll().where('id', 'in', [...new Set(ids)]).execute();
}

/** The media row serving a fingerprinted file name, if any. */
export async function findMediaByFileName(db: Db, fileName: string): Promise<MediaRow | undefined> {
  return db.selectFrom('media').selectAll().where('file_name', '=', fileName).executeTakeFirst();
}

export async function insertMedia(db: Db, media: NewMedia): Promise<number> {
  const row = await db.insertInto('media').values(media).returning('id').executeTakeFirstOrThrow();
  return row.id;
}
