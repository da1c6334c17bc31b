// What every benchmark in bench/ needs: child processes and temporary folders cleaned up however the script
// ends (normal exit, error, Ctrl-C), free loopback ports, plain HTTP GETs, waiting for a server to answer,
// a Gazette server started as `gazette serve` would be, a throw-away PostgreSQL database, and the machine.
// Only loopback addresses are used.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, release, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export const rootDir = path.resolve(import.meta.dirname, '..');
export const host = '127.0.0.1';

// ---------------------------------------------------------------------------------------------------------
// Child processes and temporary directories, all cleaned up however the script ends.

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export interface Child {
  name: string;
  process: ChildProcess;
  /** The last 64 KiB of its stdout and stderr, for error messages. */
  output: () => string;
  exited: Promise<void>;
}

export function startChild(name: string, command: string, args: string[], options: SpawnOptions = {}): Child {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-65536);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      liveChildren.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      collect(Buffer.from(`${name}: ${error.message}\n`));
      liveChildren.delete(child);
      resolve();
    });
  });
  return { name, process: child, output: () => output, exited };
}

export function isRunning(child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. nginx's master stops its workers on SIGTERM. */
export async function stopChild(child: Child, graceMs = 10_000): Promise<void> {
  if (!isRunning(child)) return child.exited;
  child.process.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    child.exited.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    console.warn(`${child.name} did not stop within ${graceMs / 1000} s of SIGTERM; killing it.`);
    child.process.kill('SIGKILL');
    await child.exited;
  }
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Last resort on exit (normal, error, Ctrl-C): signal whatever still runs and remove the temp dirs. */
export function cleanUpSync(): void {
  for (const child of liveChildren) child.kill('SIGTERM');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

process.once('exit', cleanUpSync);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the servers and load generators…`);
    process.exit(130); // runs cleanUpSync
  });
}

// ---------------------------------------------------------------------------------------------------------
// Running a bench.

/** A bad command-line argument: the bench exits 2 with the message, no stack trace. */
export class UsageError extends Error {}

/**
 * Runs a bench's `main` and sets the exit code: its own, 2 for bad arguments (a UsageError or parseArgs'),
 * 1 for any other failure (the message only); children and temporary folders are cleaned up either way.
 */
export async function runBench(name: string, main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (error) {
    const badArguments =
      error instanceof UsageError || String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS');
    process.exitCode = badArguments ? 2 : 1;
    console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    cleanUpSync();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers.

export function findExecutable(name: string, preferred: string[] = []): string | undefined {
  const candidates = [
    ...preferred,
    ...(process.env.PATH ?? '')
      .split(':')
      .filter((d) => d !== '')
      .map((d) => path.join(d, name)),
  ];
  for (const file of candidates) {
    try {
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch {
      // not here; try the next one
    }
  }
  return undefined;
}

/** A port free on the loopback now (the OS picks it); a tiny race with other programs is acceptable here. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface HttpResponse {
  status: number;
  contentType: string;
  body: Buffer;
  /** Size of the status line and headers as sent, to compare what each server puts on the wire. */
  headerBytes: number;
}

/** One GET without Accept-Encoding (as wrk sends it), on a fresh connection. */
export async function get(url: string, timeoutMs = 5000): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        let headerBytes = `HTTP/${res.httpVersion} ${res.statusCode ?? 0} ${res.statusMessage ?? ''}\r\n\r\n`.length;
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
          headerBytes += `${res.rawHeaders[i] ?? ''}: ${res.rawHeaders[i + 1] ?? ''}\r\n`.length;
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'] ?? '',
          body: Buffer.concat(chunks),
          headerBytes,
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers 200; fails early, with the child's output, if the child exits. */
export async function waitUntilAnswering(url: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = '';
  while (Date.now() < deadline) {
    if (!isRunning(child))
      throw new Error(
        `${child.name} exited before answering (code ${String(child.process.exitCode ?? child.process.signalCode)}):\n${child.output()}`,
      );
    try {
      const response = await get(url, 2000);
      if (response.status === 200) return;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  throw new Error(
    `${child.name} did not answer ${url} with 200 within ${timeoutMs / 1000} s (last: ${lastProblem}):\n${child.output()}`,
  );
}

export function machine(): string[] {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  return [
    `CPU: ${model}, ${availableParallelism()} logical CPUs (nproc); ${Math.round(totalmem() / 2 ** 30)} GiB RAM; Linux ${release()}`,
    `Node ${process.version} (${process.execPath})`,
  ];
}

/** Share of all CPUs' time spent busy over `ms` (from /proc/stat), to flag runs disturbed by other work. */
export async function cpuBusyShare(ms: number): Promise<number> {
  const sample = () => {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
    return { idle, total: fields.reduce((a, b) => a + b, 0) };
  };
  const before = sample();
  await sleep(ms);
  const after = sample();
  const total = after.total - before.total;
  return total > 0 ? 1 - (after.idle - before.idle) / total : 0;
}

export async function versionOf(command: string, args: string[]): Promise<string> {
  const child = startChild(command, command, args);
  await child.exited;
  return child.output().split('\n')[0]?.trim() ?? '';
}

// ---------------------------------------------------------------------------------------------------------
// Gazette and its database.

/** A throw-away PostgreSQL database at BENCH_POSTGRES_URL's server (default 127.0.0.1:5432, user postgres). */
export async function createBenchPostgres(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `gazette_bench_${label}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** The environment for a benchmark's `gazette serve`: the caller's, less anything that would point it elsewhere. */
export function gazetteEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (
      /^(DATABASE_URL|SITE_URL|SEED_DEMO|SMTP_URL|MEDIA_URL|MEDIA_PUBLIC_URL|S3_.*|SIGNUP_LIMIT_.*|WORKER)$/.test(name)
    )
      delete env[name];
  return { ...env, HOST: host, LOG_LEVEL: 'warn', ...settings };
}

/**
 * Starts `gazette serve` (bin/gazette.js) with `env` and the Node flags `npm start` uses; `nodeFlags` go
 * before the script too (e.g. --cpu-prof).
 */
export function startGazette(env: NodeJS.ProcessEnv, nodeFlags: string[] = [], name = 'Gazette'): Child {
  return startChild(name, process.execPath, ['--max-semi-space-size=2', ...nodeFlags, 'bin/gazette.js', 'serve'], {
    cwd: rootDir,
    env,
  });
}

/** Peak and last VmRSS of a process, sampled from /proc/<pid>/status every `everyMs` until stopped. */
export function sampleRss(pid: number, everyMs = 100): { stop: () => { peakBytes: number; samples: number } } {
  let peakBytes = 0;
  let samples = 0;
  const take = () => {
    try {
      const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      peakBytes = Math.max(peakBytes, kb * 1024);
      samples++;
    } catch {
      // the process has gone; keep what we have
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return { peakBytes, samples };
    },
  };
}

/** The README's machine line: cores, CPU model, RAM, Node. */
export function machineLine(): string {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  return `${availableParallelism()} × ${model}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
}

// ---------------------------------------------------------------------------------------------------------
// wrk.

export interface WrkResult {
  requestsPerSec: number;
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  requests: number;
  transferPerSec: string;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx3xx: number;
  command: string;
}

const timeUnitsMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses wrk 4's report (`--latency` adds the "Latency Distribution" block). */
export function parseWrk(report: string, command: string): WrkResult {
  const number = (pattern: RegExp, what: string): RegExpExecArray => {
    const match = pattern.exec(report);
    if (!match) throw new Error(`could not find ${what} in wrk's report:\n${report}`);
    return match;
  };
  const percentile = (p: number): number => {
    const match = number(new RegExp(`^\\s*${p}(?:\\.0+)?%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm'), `the ${p}% latency`);
    return Number(match[1]) * (timeUnitsMs[match[2] ?? ''] ?? Number.NaN);
  };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(report);
  return {
    requestsPerSec: Number(number(/^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec')[1]),
    p50Ms: percentile(50),
    p75Ms: percentile(75),
    p90Ms: percentile(90),
    p99Ms: percentile(99),
    requests: Number(number(/(\d+) requests in /, 'the request count')[1]),
    transferPerSec: number(/^Transfer\/sec:\s+(\S+)/m, 'Transfer/sec')[1] ?? '',
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    non2xx3xx: Number(non2xx?.[1] ?? 0),
    command,
  };
}
