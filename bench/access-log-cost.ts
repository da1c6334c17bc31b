// `node bench/access-log-cost.ts [-- --duration 5 --runs 2]`
//
// What does the access log cost per request? Requests per second swing with whatever else the machine is
// doing, so this measures the SERVER's CPU time per request instead (utime + stime from /proc/<pid>/stat,
// divided by the requests wrk completed), which another process's load hardly moves. It starts
// `gazette serve` on a fresh SQLite database with LOG_LEVEL=warn (no access lines) and LOG_LEVEL=info (one
// JSON line per request, written to a file), and loads two paths with wrk -t1 -c16:
//   - the cached article page: answered before Fastify (PageCache.tryServeRaw), the page benchmark's path;
//   - the same page with a query string: the whole Fastify pipeline, then the page cache.
// See docs/decisions/0004-access-logs-and-the-fast-path.md for the figures and what was decided.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from './harness.ts';

const root = path.resolve(import.meta.dirname, '..');
const article = '/articles/blinken-meets-herzog-ceasefire-push';
const { values } = parseArgs({
  options: { duration: { type: 'string', default: '5' }, runs: { type: 'string', default: '2' } },
});
const duration = Number(values.duration);
const runs = Number(values.runs);
const ticksPerSecond = 100; // USER_HZ on Linux

const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond; // utime, stime (fields 14 and 15)
};

const wrk = (url: string) =>
  new Promise<number>((resolve, reject) => {
    const child = spawn('wrk', ['-t1', '-c16', `-d${duration}s`, url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => {
      const m = /(\d+) requests in/.exec(out);
      if (m) resolve(Number(m[1]));
      else reject(new Error(out));
    });
  });

async function measure(logLevel: string): Promise<{ fast: number; fastify: number; logBytesPerRequest: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gazette-logcost-'));
  const port = await freePort();
  const logFile = path.join(dir, 'out.log');
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, ['bin/gazette.js', 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      DATA_DIR: dir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: logLevel,
      WORKER: 'false',
    },
    stdio: ['ignore', out, out],
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    // Listening once it answers at all (a loaded machine may take many seconds to start it).
    for (const deadline = Date.now() + 60_000; ;) {
      try {
        await fetch(`${base}/robots.txt`);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const result = { fast: 0, fastify: 0, logBytesPerRequest: 0 };
    for (const [key, url] of [
      ['fast', `${base}${article}`],
      ['fastify', `${base}${article}?from=bench`],
    ] as const) {
      await fetch(url); // render once; then every request is a cache hit
      await wrk(url); // warm-up
      const before = cpuSeconds(child.pid!);
      const bytesBefore = statSync(logFile).size;
      const requests = await wrk(url);
      result[key] = ((cpuSeconds(child.pid!) - before) / requests) * 1e6;
      if (key === 'fastify') result.logBytesPerRequest = (statSync(logFile).size - bytesBefore) / requests;
    }
    return result;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`Server CPU per request (µs), wrk -t1 -c16 -d${duration}s, ${runs} run(s) each:`);
console.log('| LOG_LEVEL | cached page (fast path) | through Fastify | log bytes / request |');
console.log('| --- | ---: | ---: | ---: |');
for (let run = 0; run < runs; run++) {
  for (const level of (process.env.LEVELS ?? 'warn,info').split(',')) {
    const r = await measure(level);
    console.log(`| ${level} | ${r.fast.toFixed(1)} | ${r.fastify.toFixed(1)} | ${r.logBytesPerRequest.toFixed(0)} |`);
  }
}
