// `npm run bench:coldstart [-- --runs 7 --database sqlite|postgres]`
//
// Cold start: the time from spawning `gazette serve` on an existing data directory (migrated and seeded by
// a first start that is not counted) to its first 200 for the home page, median of several runs. The
// ceiling, measured alongside the same way: a bare `node -e` http server's time to its first 200.
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  cleanUpSync,
  cpuBusyShare,
  createBenchPostgres,
  freePort,
  gazetteEnv,
  get,
  host,
  machineLine,
  makeTempDir,
  startChild,
  startGazette,
  stopChild,
  type Child,
} from './harness.ts';

const targetMs = 1000;

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, database: { type: 'string', default: 'sqlite' } },
  strict: true,
});
const runs = Number(values.runs);
const database = values.database;
if (!Number.isInteger(runs) || runs < 1 || (database !== 'sqlite' && database !== 'postgres')) {
  console.error('Usage: npm run bench:coldstart -- [--runs N] [--database sqlite|postgres]');
  process.exit(2);
}

/** Polls `url` every 5 ms from the moment the process is spawned; ms until the first 200. */
async function timeToFirst200(spawnIt: (port: number) => Child): Promise<number> {
  const port = await freePort();
  const url = `http://${host}:${port}/`;
  const started = performance.now();
  const child = spawnIt(port);
  try {
    for (;;) {
      if (child.process.exitCode !== null) throw new Error(`${child.name} exited before answering:\n${child.output()}`);
      if (performance.now() - started > 30_000)
        throw new Error(`${child.name} gave no 200 within 30 s:\n${child.output()}`);
      const status = await get(url, 1000).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await stopChild(child);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

async function main(): Promise<number> {
  const busyBefore = await cpuBusyShare(1000);
  const dataDir = makeTempDir('gazette-bench-coldstart-');
  const postgres = database === 'postgres' ? await createBenchPostgres('coldstart') : undefined;
  try {
    const env = (port: number) =>
      gazetteEnv({ DATA_DIR: dataDir, PORT: String(port), ...(postgres ? { DATABASE_URL: postgres.url } : {}) });
    // The first start migrates and seeds: not a cold start of an existing site, so not counted.
    const first = await timeToFirst200((port) => startGazette(env(port)));
    console.log(
      `bench:coldstart — ${runs} runs each; first start (migrate + seed, not counted): ${first.toFixed(0)} ms\n`,
    );
    const gazette: number[] = [];
    const bare: number[] = [];
    const bareServer =
      "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[1]), process.argv[2])";
    for (let i = 0; i < runs; i++) {
      // Alternate, so that a burst of other work on the machine hits both alike.
      gazette.push(await timeToFirst200((port) => startGazette(env(port))));
      bare.push(
        await timeToFirst200((port) => startChild('node -e', process.execPath, ['-e', bareServer, String(port), host])),
      );
    }
    const g = median(gazette);
    const b = median(bare);
    console.log('| run | median ms | all runs (ms) |');
    console.log('| --- | ---: | --- |');
    console.log(
      `| \`gazette serve\`, ${database === 'postgres' ? 'PostgreSQL' : 'SQLite'}, existing data dir → first 200 of / | ${g.toFixed(0)} | ${gazette.map((x) => x.toFixed(0)).join(', ')} |`,
    );
    console.log(
      `| bare \`node -e\` http server → first 200 (ceiling) | ${b.toFixed(0)} | ${bare.map((x) => x.toFixed(0)).join(', ')} |`,
    );
    console.log(
      `\nTarget: first 200 in < ${targetMs} ms: ${g < targetMs ? 'MET' : 'NOT MET'} (median ${g.toFixed(0)} ms; ${(g / b).toFixed(1)}× the bare server)`,
    );
    console.log(`Machine: ${machineLine()}`);
    const busy = Math.round(busyBefore * 100);
    console.log(
      `CPU busy with other work in the second before the run: ${busy}%${busy > 10 ? ' — figures may be high and noisy' : ''}`,
    );
    console.log(
      `Command: npm run bench:coldstart -- --runs ${runs}${database === 'postgres' ? ' --database postgres' : ''}   (node ${path.relative(process.cwd(), process.execPath)})`,
    );
    return 0;
  } finally {
    await postgres?.drop();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  process.exitCode = 1;
  console.error(`bench:coldstart: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  cleanUpSync();
}
