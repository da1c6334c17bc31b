// CPU time of named processes over a stretch of a benchmark, from /proc, so a bench can say where the
// machine's cores went (Gazette, PostgreSQL, smtp-sink…), not only how fast it was.
import { readFileSync } from 'node:fs';

/**
 * CPU seconds a process has used: utime + stime, fields 14 and 15 of /proc/<pid>/stat (proc(5)), in
 * clock ticks (USER_HZ, 100 on Linux). Not cutime/cstime: children are counted by their own pids. Undefined
 * once the process has gone.
 */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2, the command name, is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

const ticksPerSecond = 100;

/** Busy and total CPU seconds of the whole machine (all cores), from the first line of /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: (total - idle) / ticksPerSecond, total: total / ticksPerSecond };
}

/**
 * Accumulates the CPU time of a changing set of processes (e.g. PostgreSQL backends, which come and go):
 * `sample(pids)` reads each one; a pid first seen after `start()` counts from zero, one that has exited
 * keeps what was read last. Sample often enough that short-lived processes are seen at all.
 */
export class CpuAccount {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private started = false;

  start(pids: Iterable<number>): void {
    this.started = true;
    for (const pid of pids) {
      const seconds = processCpuSeconds(pid);
      if (seconds === undefined) continue;
      this.first.set(pid, seconds);
      this.last.set(pid, seconds);
    }
  }

  sample(pids: Iterable<number>): void {
    if (!this.started) throw new Error('CpuAccount.sample before start');
    for (const pid of pids) {
      const seconds = processCpuSeconds(pid);
      if (seconds === undefined) continue;
      if (!this.first.has(pid)) this.first.set(pid, 0);
      this.last.set(pid, seconds);
    }
  }

  /** CPU seconds used since `start()` by every process seen. */
  seconds(): number {
    let sum = 0;
    for (const [pid, last] of this.last) sum += last - (this.first.get(pid) ?? last);
    return sum;
  }

  /** How many distinct processes were seen. */
  processes(): number {
    return this.last.size;
  }
}
