import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../../db/index.ts';
import { inTransaction } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { hasRole } from '../users/index.ts';
import type { UserRow } from '../users/index.ts';
import { makeCrops, makeVariants, readImageInfo, withoutMetadata } from './media.images.ts';
import {
  deleteMediaRows,
  findClipJob,
  findMediaByFileName,
  findMediaById,
  findMediaByIds,
  findVariantsOfMedia,
  insertClipJob,
  insertMedia,
  insertVariants,
  listClipJobsOfSource,
  listLibrary,
  setCaptions,
} from './media.repository.ts';
import { safeBaseName, type MediaStorage } from './media.storage.ts';
import type { ClipJobRow, MediaRow, MediaVariantRow, NewMediaVariant } from './media.table.ts';
import type { SpooledUpload } from './media.upload.ts';
import { extractPoster, probeVideo, type VideoProbe } from './media.video.ts';

/** The defaults of MEDIA_MAX_IMAGE_PIXELS and MEDIA_IMAGE_JOBS_PER_USER, for a service built without limits. */
const defaultImageLimits = { maxPixels: 50_000_000, jobsPerUser: 2 };

/** The longest snippet the newsroom cuts: a clip for the top of an article, not a second copy of the video. */
export const maxClipSeconds = 600;

/**
 * What the media rules need from articles (app.ts passes the article editor): where a file is shown, and a
 * change to a shown file made as an edit of the articles showing it (their permissions, revisions and the
 * page cache).
 */
export interface MediaInArticles {
  articlesUsingMedia(
    mediaIds: readonly number[],
    fileNames: readonly string[],
  ): Promise<{ title: string; status: string }[]>;
  changeMediaShownInArticles(user: UserRow, mediaId: number, change: (db: Db) => Promise<void>): Promise<void>;
}

export interface MediaNewsroomDeps {
  db: Db;
  storage: MediaStorage;
  /** Needed for captions and deletion; the worker, which only stores snippets, goes without. */
  articles?: MediaInArticles;
  /** Scratch space for sharp and ffmpeg (`DATA_DIR/tmp`): inputs are downloaded here, outputs stored from here. */
  tmpDir: string;
  now: () => Date;
  /** Uploaded images: the most pixels (all frames together), and how many one user may have in work at once. */
  imageLimits?: { maxPixels: number; jobsPerUser: number };
}

/** A library entry with what its page shows. */
export interface MediaEntry {
  row: MediaRow;
  variants: MediaVariantRow[];
  poster: MediaRow | null;
  captions: MediaRow | null;
}

/**
 * The newsroom's media rules: what an upload must carry (alt text for images), what is made from it
 * (responsive sizes, a video's poster frame), who may delete what, and snippet jobs. Every byte goes
 * through `MediaStorage`; sharp and ffmpeg work on temporary local copies.
 */
export class MediaNewsroomService {
  readonly #deps: MediaNewsroomDeps;
  /** Image uploads being processed, per user id (this process only). */
  readonly #imageJobs = new Map<number, number>();

  constructor(deps: MediaNewsroomDeps) {
    this.#deps = deps;
  }

  async library(limit = 200): Promise<MediaEntry[]> {
    return this.#entries(await listLibrary(this.#deps.db, limit));
  }

  async entry(id: number): Promise<MediaEntry> {
    const row = await findMediaById(this.#deps.db, id);
    if (!row || row.kind === 'captions') throw new AppError('media.not_found');
    const [entry] = await this.#entries([row]);
    if (!entry) throw new AppError('media.not_found');
    return entry;
  }

  async clipJobs(videoId: number): Promise<ClipJobRow[]> {
    return listClipJobsOfSource(this.#deps.db, videoId);
  }

  async clipJob(jobId: number): Promise<ClipJobRow> {
    const job = await findClipJob(this.#deps.db, jobId);
    if (!job) throw new AppError('media.clip_not_found');
    return job;
  }

  /**
   * Runs `work` with a putFile that remembers what it stored; if `work` fails, the files it stored that no
   * media row names are removed again (a stored file is public at once, and nothing would ever list it).
   */
  async #keepOnlyIfRecorded<T>(work: (putFile: MediaStorage['putFile']) => Promise<T>): Promise<T> {
    const { storage, db } = this.#deps;
    const stored: string[] = [];
    try {
      return await work(async (...args) => {
        const file = await storage.putFile(...args);
        stored.push(file.fileName);
        return file;
      });
    } catch (error) {
      for (const fileName of stored)
        if (!(await findMediaByFileName(db, fileName).catch(() => true)))
          await storage.remove(fileName).catch(() => {});
      throw error;
    }
  }

  /** Stores an uploaded image or video. Images need alt text unless marked decorative (then alt is ""). */
  async storeUpload(
    upload: SpooledUpload,
    input: { alt: string; decorative: boolean; user: UserRow },
  ): Promise<MediaRow> {
    if (upload.kind === 'image') {
      if (!input.decorative && input.alt === '') throw new AppError('media.alt_required');
      await this.#checkPixels(upload.tempPath);
      return this.#imageJob(input.user.id, () =>
        this.storeImage(upload.tempPath, {
          originalName: upload.originalName,
          mimeType: upload.mimeType,
          extension: upload.extension,
          alt: input.decorative ? '' : input.alt,
          uploadedBy: input.user.id,
        }),
      );
    }
    if (upload.kind === 'video') {
      return this.storeVideo(upload.tempPath, {
        originalName: upload.originalName,
        mimeType: upload.mimeType,
        extension: upload.extension,
        alt: input.alt,
        uploadedBy: input.user.id,
      });
    }
    throw new AppError(
      'media.wrong_kind',
      'Caption files are attached to a video: open the video and use "Attach captions".',
    );
  }

  /** An image file → stored original, its responsive sizes, and a media row with its variants. */
  async storeImage(
    localPath: string,
    meta: { originalName: string; mimeType: string; extension: string; alt: string; uploadedBy: number | null },
  ): Promise<MediaRow> {
    const { db } = this.#deps;
    const info = await readImageInfo(localPath).catch(() => {
      throw new AppError('media.corrupt');
    });
    const work = await mkdtemp(path.join(await this.#tmp(), 'image-'));
    try {
      // Every file is made here first: a decoding error must not leave a stored (public) file behind.
      const clean = await withoutMetadata(localPath, info, work);
      // The responsive sizes, then the crops for structured data (named by their ratio: `-16x9`).
      const made = [
        ...(await makeVariants(localPath, info, work)).map((v) => ({ ...v, crop: null })),
        ...(await makeCrops(localPath, info, work)),
      ];
      return await this.#keepOnlyIfRecorded(async (putFile) => {
        const stored = await putFile(meta.originalName, meta.extension, clean, meta.mimeType);
        const existing = await findMediaByFileName(db, stored.fileName);
        if (existing) return existing; // the same bytes under the same name: already in the library
        const variants: Omit<NewMediaVariant, 'media_id'>[] = [];
        for (const v of made) {
          const suffix = v.crop?.replace(':', 'x') ?? String(v.width);
          const file = await putFile(
            `${safeBaseName(meta.originalName)}-${suffix}`,
            v.extension,
            v.localPath,
            v.mimeType,
          );
          variants.push({
            file_name: file.fileName,
            mime_type: v.mimeType,
            width: v.width,
            height: v.height,
            byte_size: file.byteSize,
            crop: v.crop,
          });
        }
        return await inTransaction(db, async (trx) => {
          const id = await insertMedia(trx, {
            kind: 'image',
            file_name: stored.fileName,
            original_name: meta.originalName,
            mime_type: meta.mimeType,
            byte_size: stored.byteSize,
            sha256: stored.sha256,
            width: info.width,
            height: info.height,
            duration_seconds: null,
            alt_text: meta.alt,
            poster_media_id: null,
            captions_media_id: null,
            uploaded_by: meta.uploadedBy,
            created_at: this.#deps.now().toISOString(),
          });
          await insertVariants(
            trx,
            variants.map((v) => ({ ...v, media_id: id })),
          );
          return (await findMediaById(trx, id))!;
        });
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** A video file → probed (duration, size), a poster frame stored as an image, the video stored and recorded. */
  async storeVideo(
    localPath: string,
    meta: { originalName: string; mimeType: string; extension: string; alt: string; uploadedBy: number | null },
  ): Promise<MediaRow> {
    const { db } = this.#deps;
    const input = { path: localPath, mimeType: meta.mimeType };
    const probe = await probeVideo(input).catch(() => {
      throw new AppError('media.corrupt');
    });
    checkVideoLimits(probe);
    const work = await mkdtemp(path.join(await this.#tmp(), 'video-'));
    try {
      // The poster first: a truncated video that ffprobe reads but ffmpeg cannot decode stores nothing.
      const posterPath = path.join(work, 'poster.jpg');
      await extractPoster(input, probe.durationSeconds, posterPath).catch((error: unknown) => {
        throw error instanceof AppError ? error : new AppError('media.corrupt');
      });
      await readImageInfo(posterPath).catch(() => {
        throw new AppError('media.corrupt');
      });
      return await this.#keepOnlyIfRecorded(async (putFile) => {
        const stored = await putFile(meta.originalName, meta.extension, localPath, meta.mimeType);
        const existing = await findMediaByFileName(db, stored.fileName);
        if (existing) return existing;
        const poster = await this.storeImage(posterPath, {
          originalName: `${safeBaseName(meta.originalName)}-poster`,
          mimeType: 'image/jpeg',
          extension: 'jpg',
          alt: meta.alt,
          uploadedBy: meta.uploadedBy,
        });
        const id = await insertMedia(db, {
          kind: 'video',
          file_name: stored.fileName,
          original_name: meta.originalName,
          mime_type: meta.mimeType,
          byte_size: stored.byteSize,
          sha256: stored.sha256,
          width: probe.width,
          height: probe.height,
          duration_seconds: probe.durationSeconds,
          alt_text: meta.alt,
          poster_media_id: poster.id,
          captions_media_id: null,
          uploaded_by: meta.uploadedBy,
          created_at: this.#deps.now().toISOString(),
        });
        return (await findMediaById(db, id))!;
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Attaches a WebVTT file to a video (replacing earlier captions), after checking it is WebVTT. Readers
   * see captions on every published article showing the video, so attaching them is an edit of those.
   */
  async attachCaptions(videoId: number, upload: SpooledUpload, user: UserRow): Promise<MediaRow> {
    const video = await this.#video(videoId);
    if (upload.kind !== 'captions') throw new AppError('media.invalid_captions');
    validateWebVtt(await readFile(upload.tempPath));
    const stored = await this.#deps.storage.putFile(upload.originalName, 'vtt', upload.tempPath, 'text/vtt');
    const existing = await findMediaByFileName(this.#deps.db, stored.fileName);
    const captionsId =
      existing?.id ??
      (await insertMedia(this.#deps.db, {
        kind: 'captions',
        file_name: stored.fileName,
        original_name: upload.originalName,
        mime_type: 'text/vtt',
        byte_size: stored.byteSize,
        sha256: stored.sha256,
        width: null,
        height: null,
        duration_seconds: null,
        alt_text: null,
        poster_media_id: null,
        captions_media_id: null,
        uploaded_by: user.id,
        created_at: this.#deps.now().toISOString(),
      }));
    await this.#articles().changeMediaShownInArticles(user, video.id, (db) => setCaptions(db, video.id, captionsId));
    return video;
  }

  /** Queues "cut a snippet" for the worker; times in seconds, checked against the video's duration. */
  async requestClip(videoId: number, startSeconds: number, endSeconds: number, user: UserRow): Promise<number> {
    const video = await this.#video(videoId);
    const duration = video.duration_seconds ?? 0;
    const bad = (message: string) => new AppError('media.bad_clip_times', message);
    if (!(endSeconds > startSeconds)) throw bad('The end time must be after the start time.');
    if (startSeconds < 0 || endSeconds > duration + 0.05)
      throw bad(`The snippet must lie within the video, which is ${duration.toFixed(1)} seconds long.`);
    if (endSeconds - startSeconds > maxClipSeconds) throw bad('A snippet may be at most 10 minutes long.');
    if (endSeconds - startSeconds < 0.5) throw bad('A snippet must be at least half a second long.');
    return insertClipJob(this.#deps.db, {
      sourceMediaId: video.id,
      startSeconds,
      endSeconds: Math.min(endSeconds, duration),
      requestedBy: user.id,
      now: this.#deps.now().toISOString(),
    });
  }

  /**
   * Deletes a library entry with its poster frame and captions, and their files. Contributors and authors
   * may delete what they uploaded; deleting someone else's upload takes an editor. Nobody deletes a file an
   * article (of any status) shows: it would vanish from the page without an edit of it.
   */
  async delete(id: number, user: UserRow): Promise<void> {
    const entry = await this.entry(id);
    if (entry.row.uploaded_by !== user.id && !hasRole(user.role, 'editor'))
      throw new AppError('auth.forbidden', 'Only an editor may delete media someone else uploaded.');
    const rows = [entry.row, entry.poster, entry.captions].filter((row): row is MediaRow => row !== null);
    const ids = rows.map((row) => row.id);
    const usedBy = await this.#articles().articlesUsingMedia(
      ids,
      rows.map((row) => row.file_name),
    );
    if (usedBy.length > 0) {
      throw new AppError(
        'media.in_use',
        `This file is used by ${usedBy.map((a) => `“${a.title}” (${a.status})`).join(', ')}. Remove it from ${usedBy.length === 1 ? 'that article' : 'those articles'} first.`,
      );
    }
    const unused = await deleteMediaRows(this.#deps.db, ids);
    await Promise.all(unused.map((name) => this.#deps.storage.remove(name)));
  }

  #articles(): MediaInArticles {
    if (!this.#deps.articles) throw new Error('MediaNewsroomService was built without its articles dependency');
    return this.#deps.articles;
  }

  /**
   * Refuses an image over the pixel limit from its header alone: decoding costs memory and time by the
   * pixel (a 100-megapixel PNG takes seconds and hundreds of MB), whatever the file's size.
   */
  async #checkPixels(file: string): Promise<void> {
    const { maxPixels } = this.#deps.imageLimits ?? defaultImageLimits;
    const info = await readImageInfo(file).catch(() => {
      throw new AppError('media.corrupt');
    });
    const pixels = info.width * info.height * info.pages;
    if (pixels <= maxPixels) return;
    const megapixels = (n: number) => `${Math.round(n / 100_000) / 10} megapixels`;
    const frames = info.pages > 1 ? ` in ${info.pages} frames` : '';
    throw new AppError(
      'media.too_many_pixels',
      `This image is ${info.width} × ${info.height} pixels${frames} (${megapixels(pixels)}): images may be at most ${megapixels(maxPixels)}. Please export it smaller and upload it again.`,
    );
  }

  /** Runs one user's image work if they have fewer than `jobsPerUser` in progress, else refuses (429). */
  async #imageJob<T>(userId: number, work: () => Promise<T>): Promise<T> {
    const { jobsPerUser } = this.#deps.imageLimits ?? defaultImageLimits;
    const running = this.#imageJobs.get(userId) ?? 0;
    if (running >= jobsPerUser) throw new AppError('media.busy');
    this.#imageJobs.set(userId, running + 1);
    try {
      return await work();
    } finally {
      const left = (this.#imageJobs.get(userId) ?? 1) - 1;
      if (left > 0) this.#imageJobs.set(userId, left);
      else this.#imageJobs.delete(userId);
    }
  }

  async #video(id: number): Promise<MediaRow> {
    const row = await findMediaById(this.#deps.db, id);
    if (!row || row.kind !== 'video') throw new AppError('media.not_found');
    return row;
  }

  async #entries(rows: MediaRow[]): Promise<MediaEntry[]> {
    const { db } = this.#deps;
    const relatedIds = rows
      .flatMap((r) => [r.poster_media_id, r.captions_media_id])
      .filter((id): id is number => id !== null);
    const related = new Map((await findMediaByIds(db, relatedIds)).map((r) => [r.id, r]));
    const variants = await findVariantsOfMedia(db, [...rows.map((r) => r.id), ...related.keys()]);
    return rows.map((row) => ({
      row,
      variants: variants.get(row.id) ?? (row.poster_media_id !== null ? (variants.get(row.poster_media_id) ?? []) : []),
      poster: row.poster_media_id === null ? null : (related.get(row.poster_media_id) ?? null),
      captions: row.captions_media_id === null ? null : (related.get(row.captions_media_id) ?? null),
    }));
  }

  async #tmp(): Promise<string> {
    await mkdir(this.#deps.tmpDir, { recursive: true });
    return this.#deps.tmpDir;
  }
}

/** The longest video the library takes: hours of a council meeting, not a day of CCTV. */
export const maxVideoSeconds = 4 * 60 * 60;
/** The largest frame: 8K UHD either way up. A poster or a cut decodes whole frames of this size. */
const maxVideoSide = 7680;

/** Refuses, before any frame is decoded, a video longer or larger than the newsroom works with. */
function checkVideoLimits(probe: VideoProbe): void {
  if (probe.durationSeconds > maxVideoSeconds)
    throw new AppError(
      'media.video_too_large',
      `This video lasts over ${maxVideoSeconds / 3600} hours: please upload at most ${maxVideoSeconds / 3600} hours (cut it first).`,
    );
  if ((probe.width ?? 0) > maxVideoSide || (probe.height ?? 0) > maxVideoSide)
    throw new AppError(
      'media.video_too_large',
      `This video's frames are larger than ${maxVideoSide} pixels: please export it at 8K or less.`,
    );
}

/** A cue timing line: `00:01.000 --> 00:04.000` or with hours, then optional settings (WebVTT §4.1). */
const cueTiming = /^(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}[ \t]+-->[ \t]+(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}(?:[ \t].*)?$/;

/** Checks a caption file is WebVTT we can serve: UTF-8, the `WEBVTT` signature, well-formed cue timings. */
export function validateWebVtt(bytes: Uint8Array): void {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new AppError('media.invalid_captions');
  }
  if (!/^WEBVTT(?:[ \t].*)?(?:\r?\n|$)/.test(text) || text.includes('\0')) throw new AppError('media.invalid_captions');
  const timings = text.split(/\r?\n/).filter((line) => line.includes('-->'));
  if (timings.length === 0 || !timings.every((line) => cueTiming.test(line.trim())))
    throw new AppError('media.invalid_captions');
}
