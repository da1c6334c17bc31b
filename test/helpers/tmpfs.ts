import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Mounts a small tmpfs at `dir` (created if need be), a real disk that fills up (ENOSPC, SQLITE_FULL).
 * Needs root: resolves with null where it cannot mount, and the caller skips with a line. The returned
 * function unmounts it.
 */
export async function mountTmpfs(dir: string, size: string): Promise<(() => Promise<void>) | null> {
  await mkdir(dir, { recursive: true });
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]).then(() => true, () => false);
  return mounted ? async () => void (await run('umount', ['-l', dir])) : null;
}
