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
