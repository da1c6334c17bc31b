import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../../db/index.ts';
import { newClaimantId } from '../../db/claimants.ts';
import { createRunner, type JobKind, type Outcome } from '../../jobs/runner.ts';
import { maxVideoSeconds, type MediaNewsroomService } from './media.newsroom.service.ts';
import {
  claimClipJob,
  failAbandonedClipJobs,
  failClipJob,
  findMediaById,
  finishClipJob,
  hasUnfinishedClipJobs,
  recordClipProgress,
  releaseClipJob,
} from './media.repository.ts';
import { safeBaseName, type MediaStorage } from './media.storage.ts';
import type { ClipJobRow } from './media.table.ts';
import { cutClip, FfmpegError } from './media.video.ts';

class SourceGone extends Error {}

/** The snippet stored as a new video: its media row. */
interface StoredClip {
  id: number;
  fileName: string;
}

export interface ClipWorkerOptions {
  /** `hostname:pid:random`, written into each claim. */
  workerId: string;
  /** A running job whose heartbeat is older than this belongs to a dead worker and is taken again. */
  leaseMs: number;
  /** How often progress (and so the heartbeat) is written at most, and at least, while cutting. */
  heartbeatMs: number;
  /** Idle poll interval. */
  pollMs: number;
  /** Tries before a job whose worker keeps dying is marked failed. */
  maxAttempts: number;
}

export interface ClipWorkerDeps {
  db: Db;
  storage: MediaStorage;
  media: MediaNewsroomService;
  tmpDir: string;
  now?: () => Date;
  log?: (line: string) => void;
  options?: Partial<ClipWorkerOptions>;
}

/** What one pass did: `idle` (nothing to do), or the job's outcome. */
export type ClipOutcome = 'idle' | 'done' | 'failed' | 'released' | 'lost';

export interface ClipWorker {
  readonly id: string;
  /** Claims one job and runs it to the end. */
  runOnce(): Promise<ClipOutcome>;
  start(): void;
  /** Stops: a cut in flight is interrupted and its job given back to the queue for another worker. */
  stop(): Promise<void>;
}

const defaults: Omit<ClipWorkerOptions, 'workerId'> = {
  leaseMs: 60_000,
  heartbeatMs: 1_000,
  pollMs: 1_000,
  maxAttempts: 3,
};

/**
 * The `video-clips` job: takes "cut a snippet" jobs exactly once (a conditional UPDATE claims a job and
 * stamps a heartbeat), downloads the source from storage, runs ffmpeg reporting progress into the row
 * (which renews the lease), then stores the clip as a new video with its own poster frame and records it
 * as the job's result. A worker that dies leaves a stale heartbeat; after `leaseMs` another worker takes
 * the job again from the start (at most `maxAttempts` times).
 */
export function createClipWorker(deps: ClipWorkerDeps): ClipWorker {
  const options: ClipWorkerOptions = { workerId: newClaimantId(), ...defaults, ...deps.options };
  const { db, storage } = deps;
  const now = () => deps.now?.() ?? new Date();
  const log = deps.log ?? (() => {});

  const kind: JobKind<ClipJobRow, StoredClip> = {
    name: 'video-clips',
    async claim({ claimant, now: at, staleBefore }) {
      // A read first, so an idle worker's poll takes no write lock (SQLite).
      if (!(await hasUnfinishedClipJobs(db))) return [];
      // Before the claim, which takes a job whose lease lapsed: three dead workers and it is given up.
      const abandoned = await failAbandonedClipJobs(
        db,
        staleBefore.toISOString(),
        options.maxAttempts,
        at.toISOString(),
      );
      if (abandoned > 0) log(`Gave up on ${abandoned} snippet job(s) whose worker kept stopping.`);
      const job = await claimClipJob(db, claimant, at.toISOString(), staleBefore.toISOString());
      return job ? [job] : [];
    },
    run: (job, ctx) => cut(job, ctx.claimant, ctx.signal),
    async record(settled, { claimant, now: at }) {
      for (const { item, outcome } of settled) {
        if (outcome.kind === 'done') {
          if (await finishClipJob(db, item.id, claimant, outcome.result.id, at.toISOString()))
            log(`Snippet job ${item.id}: stored ${outcome.result.fileName}.`);
        } else if (outcome.kind === 'failed')
          await failClipJob(db, item.id, claimant, outcome.reason, at.toISOString());
      }
    },
    // Given back at a stop: another worker starts it afresh.
    async release(ids, { claimant }) {
      for (const id of ids) await releaseClipJob(db, id, claimant);
    },
  };

  /** Cuts one snippet and stores it as a new video. */
  async function cut(job: ClipJobRow, claimant: string, stopping: AbortSignal): Promise<Outcome<StoredClip>> {
    await mkdir(deps.tmpDir, { recursive: true });
    const dir = await mkdtemp(path.join(deps.tmpDir, 'clip-'));
    const takenOver = new AbortController();
    const signal = AbortSignal.any([stopping, takenOver.signal]);
    let lost = false;
    let lastWrite = 0;
    let lastPercent = -1;
    const beat = async (percent: number) => {
      if (!(await recordClipProgress(db, job.id, claimant, percent, now().toISOString()))) {
        lost = true; // another worker took it over (our heartbeat lapsed): stop, it is theirs now
        takenOver.abort();
      }
    };
    // A heartbeat even when ffmpeg prints nothing for a while (a slow seek), so the lease never lapses while alive.
    const heartbeat = setInterval(() => void beat(Math.max(0, lastPercent)).catch(() => {}), options.heartbeatMs);
    try {
      const source = await findMediaById(db, job.source_media_id);
      if (!source || source.kind !== 'video') throw new SourceGone('The source video was deleted.');
      // Checked before anything is downloaded or decoded; an upload met these limits when it was stored.
      if ((source.duration_seconds ?? Infinity) > maxVideoSeconds)
        throw new SourceGone('The source video is longer than the library takes.');
      const input = path.join(dir, `source.${path.extname(source.file_name).slice(1) || 'mp4'}`);
      await storage.download(source.file_name, input);
      const output = path.join(dir, 'clip.mp4');
      // ffmpeg reads it as the type recorded at upload, never as whatever its bytes suggest.
      await cutClip(
        { path: input, mimeType: source.mime_type },
        output,
        { startSeconds: job.start_seconds, endSeconds: job.end_seconds },
        {
          signal,
          onProgress: (percent) => {
            const whole = Math.floor(percent);
            const t = Date.now();
            if (whole === lastPercent || (t - lastWrite < 200 && whole < 100)) return;
            lastPercent = whole;
            lastWrite = t;
            void beat(whole).catch(() => {});
          },
        },
      );
      const name = `${safeBaseName(source.original_name)}-snippet-${formatSeconds(job.start_seconds)}-${formatSeconds(job.end_seconds)}`;
      const clip = await deps.media.storeVideo(output, {
        originalName: `${name}.mp4`,
        mimeType: 'video/mp4',
        extension: 'mp4',
        alt: source.alt_text ?? '',
        uploadedBy: job.requested_by,
      });
      return { kind: 'done', result: { id: clip.id, fileName: clip.file_name } };
    } catch (error) {
      if (lost) return { kind: 'skipped', reason: 'taken over by another worker' };
      // Stopping: the runner gives the job back to the queue.
      if (stopping.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      log(`Snippet job ${job.id} failed: ${message}`);
      // Shown in the newsroom: ffmpeg's own words help; a storage error's paths and internals do not.
      const shown =
        error instanceof FfmpegError
          ? `ffmpeg could not cut this snippet: ${message}`
          : error instanceof SourceGone
            ? message
            : 'The source video could not be read from storage.';
      return { kind: 'failed', reason: shown };
    } finally {
      clearInterval(heartbeat);
      await rm(dir, { recursive: true, force: true });
    }
  }

  const runner = createRunner(kind, {
    now,
    log: { info: log, warn: log },
    // One job at a time, claimed alone; the heartbeat is the progress write (`heartbeatMs`), so the runner
    // renews nothing itself. A stop interrupts ffmpeg rather than waiting minutes for a long cut.
    options: {
      claimant: options.workerId,
      lanes: 1,
      batchSize: 1,
      leaseMs: options.leaseMs,
      pollMs: options.pollMs,
      interruptOnStop: true,
    },
  });

  return {
    id: runner.claimant,
    async runOnce() {
      const round = await runner.runOnce();
      if (round.claimed === 0) return 'idle';
      return round.done > 0 ? 'done' : round.failed > 0 ? 'failed' : round.released > 0 ? 'released' : 'lost';
    },
    start: () => runner.start(),
    stop: () => runner.stop(),
  };
}

/** 75.5 → `1m15.5s`, for a clip's readable name. */
function formatSeconds(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round((seconds - m * 60) * 10) / 10;
  return `${m}m${s}s`;
}
