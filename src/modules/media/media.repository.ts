import { PostgresAdapter, sql } from 'kysely';
import { inChunks } from '../../db/chunks.ts';
import { type Db, inTransaction } from '../../db/index.ts';
import type { ClipJobRow, MediaRow, MediaVariantRow, NewMedia, NewMediaVariant } from './media.table.ts';

/** Media rows by id, for hydrating a page's articles in one query. */
export async function findMediaByIds(db: Db, ids: readonly number[]): Promise<MediaRow[]> {
  if (ids.length === 0) return [];
  return inChunks([...new Set(ids)], (chunk) => db.selectFrom('media').selectAll().where('id', 'in', chunk).execute());
}

/** The media rows serving these fingerprinted file names (those that exist). */
export async function findMediaByFileNames(db: Db, fileNames: readonly string[]): Promise<MediaRow[]> {
  if (fileNames.length === 0) return [];
  return inChunks([...new Set(fileNames)], (chunk) =>
    db.selectFrom('media').selectAll().where('file_name', 'in', chunk).execute(),
  );
}

/** The media row serving a fingerprinted file name, if any. */
export async function findMediaByFileName(db: Db, fileName: string): Promise<MediaRow | undefined> {
  return db.selectFrom('media').selectAll().where('file_name', '=', fileName).executeTakeFirst();
}

export async function insertMedia(db: Db, media: NewMedia): Promise<number> {
  const row = await db.insertInto('media').values(media).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function findMediaById(db: Db, id: number): Promise<MediaRow | undefined> {
  return db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The newsroom's media library: images and videos, newest first. Poster frames are left out (they are
 * shown with their video), as are caption files.
 */
export async function listLibrary(db: Db, limit: number): Promise<MediaRow[]> {
  return db
    .selectFrom('media')
    .selectAll()
    .where('kind', 'in', ['image', 'video'])
    .where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('media as owner').select('owner.id').whereRef('owner.poster_media_id', '=', 'media.id'),
        ),
      ),
    )
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function insertVariants(db: Db, variants: readonly NewMediaVariant[]): Promise<void> {
  if (variants.length > 0)
    await db
      .insertInto('media_variants')
      .values([...variants])
      .execute();
}

/** Responsive sizes of these media rows, smallest first, by media id. */
export async function findVariantsOfMedia(
  db: Db,
  mediaIds: readonly number[],
): Promise<Map<number, MediaVariantRow[]>> {
  const byMedia = new Map<number, MediaVariantRow[]>();
  if (mediaIds.length === 0) return byMedia;
  const rows = await inChunks([...new Set(mediaIds)], (chunk) =>
    db.selectFrom('media_variants').selectAll().where('media_id', 'in', chunk).orderBy('width').orderBy('id').execute(),
  );
  for (const row of rows) byMedia.set(row.media_id, [...(byMedia.get(row.media_id) ?? []), row]);
  return byMedia;
}

export async function setCaptions(db: Db, videoId: number, captionsId: number): Promise<void> {
  await db.updateTable('media').set({ captions_media_id: captionsId }).where('id', '=', videoId).execute();
}

/**
 * Deletes media rows (and, by cascade, their variants) and returns the stored file names that no
 * remaining row uses, for the caller to remove from storage.
 */
export async function deleteMediaRows(db: Db, ids: readonly number[]): Promise<string[]> {
  if (ids.length === 0) return [];
  return inTransaction(db, async (trx) => {
    const rows = await trx
      .selectFrom('media')
      .select('file_name')
      .where('id', 'in', [...ids])
      .execute();
    const variants = await trx
      .selectFrom('media_variants')
      .select('file_name')
      .where('media_id', 'in', [...ids])
      .execute();
    await trx
      .deleteFrom('media')
      .where('id', 'in', [...ids])
      .execute();
    const names = [...new Set([...rows, ...variants].map((r) => r.file_name))];
    if (names.length === 0) return [];
    const stillUsed = new Set([
      ...(await trx.selectFrom('media').select('file_name').where('file_name', 'in', names).execute()).map(
        (r) => r.file_name,
      ),
      ...(await trx.selectFrom('media_variants').select('file_name').where('file_name', 'in', names).execute()).map(
        (r) => r.file_name,
      ),
    ]);
    return names.filter((name) => !stillUsed.has(name));
  });
}

// ---- "Cut a snippet" jobs ----

export async function insertClipJob(
  db: Db,
  job: { sourceMediaId: number; startSeconds: number; endSeconds: number; requestedBy: number | null; now: string },
): Promise<number> {
  const row = await db
    .insertInto('video_clip_jobs')
    .values({
      source_media_id: job.sourceMediaId,
      start_seconds: job.startSeconds,
      end_seconds: job.endSeconds,
      requested_by: job.requestedBy,
      created_at: job.now,
      error: null,
      result_media_id: null,
      claimed_by: null,
      heartbeat_at: null,
      finished_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function findClipJob(db: Db, id: number): Promise<ClipJobRow | undefined> {
  return db.selectFrom('video_clip_jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The newest snippet jobs cut from a video. */
export async function listClipJobsOfSource(db: Db, sourceMediaId: number, limit = 20): Promise<ClipJobRow[]> {
  return db
    .selectFrom('video_clip_jobs')
    .selectAll()
    .where('source_media_id', '=', sourceMediaId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/**
 * Takes the oldest job that is queued, or running under a lease that was not renewed since `staleBefore`
 * (its worker died), for `workerId`: one conditional UPDATE, so of several workers only one gets it. The
 * WHERE is repeated outside the subquery because PostgreSQL re-checks it on the locked row (READ COMMITTED);
 * SKIP LOCKED lets other workers pass over a row being claimed instead of waiting for it.
 */
export async function claimClipJob(
  db: Db,
  workerId: string,
  now: string,
  staleBefore: string,
): Promise<ClipJobRow | undefined> {
  const claimable = sql<boolean>`(status = 'queued' OR (status = 'running' AND heartbeat_at < ${staleBefore}))`;
  const lock = isPostgres(db) ? sql` FOR UPDATE SKIP LOCKED` : sql``;
  const result = await sql<ClipJobRow>`
    UPDATE video_clip_jobs
    SET status = 'running', claimed_by = ${workerId}, heartbeat_at = ${now}, attempts = attempts + 1, progress = 0, error = NULL
    WHERE id = (SELECT id FROM video_clip_jobs WHERE ${claimable} ORDER BY id LIMIT 1${lock}) AND ${claimable}
    RETURNING *`.execute(db);
  const row = result.rows[0];
  return row
    ? {
        ...row,
        id: Number(row.id),
        source_media_id: Number(row.source_media_id),
        attempts: Number(row.attempts),
        progress: Number(row.progress),
      }
    : undefined;
}

/** Whether any job is queued or running: a read, so an idle worker's poll takes no write lock (SQLite). */
export async function hasUnfinishedClipJobs(db: Db): Promise<boolean> {
  return (
    (await db
      .selectFrom('video_clip_jobs')
      .select('id')
      .where('status', 'in', ['queued', 'running'])
      .limit(1)
      .executeTakeFirst()) !== undefined
  );
}

/** Jobs whose worker died `maxAttempts` times are not tried again: marked failed with a reason. */
export async function failAbandonedClipJobs(
  db: Db,
  staleBefore: string,
  maxAttempts: number,
  now: string,
): Promise<number> {
  const result = await db
    .updateTable('video_clip_jobs')
    .set({
      status: 'failed',
      error: `The worker stopped while cutting this snippet ${maxAttempts} times; giving up.`,
      finished_at: now,
      claimed_by: null,
    })
    .where('status', '=', 'running')
    .where('heartbeat_at', '<', staleBefore)
    .where('attempts', '>=', maxAttempts)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Records progress and renews the lease; false when the job is no longer this worker's (it was taken over). */
export async function recordClipProgress(
  db: Db,
  id: number,
  workerId: string,
  progress: number,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('video_clip_jobs')
    .set({ progress: Math.max(0, Math.min(100, Math.round(progress))), heartbeat_at: now })
    .where('id', '=', id)
    .where('claimed_by', '=', workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function finishClipJob(
  db: Db,
  id: number,
  workerId: string,
  resultMediaId: number,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('video_clip_jobs')
    .set({ status: 'done', progress: 100, result_media_id: resultMediaId, finished_at: now, heartbeat_at: now })
    .where('id', '=', id)
    .where('claimed_by', '=', workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function failClipJob(db: Db, id: number, workerId: string, error: string, now: string): Promise<void> {
  await db
    .updateTable('video_clip_jobs')
    .set({ status: 'failed', error: error.slice(0, 500), finished_at: now })
    .where('id', '=', id)
    .where('claimed_by', '=', workerId)
    .where('status', '=', 'running')
    .execute();
}

/** Gives a job back to the queue (the worker is stopping): another worker starts it afresh. */
export async function releaseClipJob(db: Db, id: number, workerId: string): Promise<void> {
  await db
    .updateTable('video_clip_jobs')
    .set((eb) => ({
      status: 'queued',
      claimed_by: null,
      heartbeat_at: null,
      progress: 0,
      attempts: eb('attempts', '-', 1),
    }))
    .where('id', '=', id)
    .where('claimed_by', '=', workerId)
    .where('status', '=', 'running')
    .execute();
}

function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
