import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Mounts a small tmpfs at `dir` (created if need be), a real disk that fills up (ENOSPC, SQLITE_FULL).
 * Needs root: resolves with null where it cannot mount, and the caller skips with a line. The returned
 * function unmounts it.
 */
export async function mountTmpfs(dir: string, size: string): Promise<(() => Promise<void>) | null> {
  await mkdir(dir, { recursive: true });
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]).then(
    () => true,
    () => false,
  );
  return mounted ? async () => void (await run('umount', ['-l', dir])) : null;
}

/** Writes `file` until the disk refuses (ENOSPC): the disk is then full; removing the file gives the space back. */
export async function fillDisk(file: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    for (const size of [1024 * 1024, 4096, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;)
        if (
          await handle.write(chunk).then(
            () => false,
            (e: NodeJS.ErrnoException) => (e.code === 'ENOSPC' ? true : Promise.reject(e)),
          )
        )
          break;
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

/** A new temporary directory with a small tmpfs on it, when one can be mounted; `remove` unmounts and deletes it. */
export async function tmpfsDirectory(
  size: string,
): Promise<{ dir: string; mounted: boolean; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gazette-full-'));
  const unmount = await mountTmpfs(dir, size);
  return {
    dir,
    mounted: unmount !== null,
    remove: async () => {
      await unmount?.();
      await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }));
    },
  };
}
