import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isDeadLocalClaimant, newClaimantId } from './db/claimants.ts';

// Temporary files (spooled uploads and imports, sharp and ffmpeg work) live in one directory per process,
// DATA_DIR/tmp/<hostname:pid:random>, so that a process starting later can tell whose they are: a `kill -9`
// leaves them behind, and they can hold subscribers' personal data (an import's CSV).

let own: string | undefined;

/** This process's scratch directory under DATA_DIR/tmp (the same for the whole process; created on use). */
export function scratchDirectory(dataDir: string): string {
  own ??= newClaimantId();
  return path.join(dataDir, 'tmp', own);
}

/** Loose files of the layout before per-process directories, kept this long in case an older process still runs. */
const looseFileAgeMs = 60 * 60_000;

/**
 * Removes what processes that are gone left behind: scratch directories of dead processes on this machine,
 * and loose files (the older layout, also DATA_DIR/imports) not touched for an hour. A directory of a live
 * process, or of another machine's, is left alone. Resolves with the number of entries removed.
 */
export async function sweepScratch(dataDir: string, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const area of ['tmp', 'imports']) {
    const dir = path.join(dataDir, area);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      const processDir = entry.isDirectory() && entry.name.split(':').length === 3;
      const gone = processDir
        ? isDeadLocalClaimant(entry.name)
        : now -
            (await stat(file).then(
              (s) => s.mtimeMs,
              () => now,
            )) >
          looseFileAgeMs;
      if (gone && entry.name !== own) {
        await rm(file, { recursive: true, force: true });
        removed++;
      }
    }
  }
  return removed;
}
