import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Who holds a claim on a queued row (a newsletter delivery, a sign-up mail): `hostname:pid:random`,
 * written into the row when it is claimed. A lease expiry returns the claims of a process that died
 * anywhere; on its own machine a process can tell at once that a claimant's pid is gone.
 */
export function newClaimantId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** A claimant on this host whose process no longer exists (its claims can go back to the queue now). */
export function isDeadLocalClaimant(claimantId: string): boolean {
  const [host, pidText] = claimantId.split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false; // another claimant in this process: alive
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Writes a queue still owes after one failed (a full disk, a lost connection): each set's ids are written
 * by its function, then leave the set and `held` (the claims in hand). Throws the database's own error while
 * it cannot, so the caller sends nothing more until they are written.
 */
export async function settleOwedWrites(
  writes: [Set<number> | Map<number, unknown>, (ids: number[]) => Promise<unknown>][],
  held: Set<number>,
): Promise<void> {
  for (const [owed, write] of writes) {
    if (owed.size === 0) continue;
    const ids = [...owed.keys()];
    await write(ids);
    for (const owedId of ids) {
      owed.delete(owedId);
      held.delete(owedId);
    }
  }
}
