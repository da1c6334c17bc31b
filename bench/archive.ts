// `npm run bench:archive [-- --articles 40000 --database sqlite,postgres --connections 64 --cpu-prof]`
//
// The archive's long tail: crawlers and readers from search ask for pages nobody asked for in the last five
// minutes, so what counts there is the cold render. For each database this generates N articles
// (bench/generate.ts: tags, bylines, bodies rendered as a save stores them), starts `gazette serve`, and has
// wrk walk published article paths in a shuffled order, each path once (bench/archive-walk.lua, -t1): a
// warm-up walk of the first paths (not measured), then the measured walk of all the others, every request a
// page not yet rendered. It prints cold renders per second, p50/p99 and the peak resident memory of Gazette,
// beside the ceiling measured in the same run: a bare node:http server sending one of those pages' bytes
// (bench/site-static-server.ts) under the same wrk settings. Only loopback addresses are used; every child
// process and temporary folder is removed at the end, on error and on Ctrl-C.
import { readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDb } from '../src/db/index.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { generateArticles, randomSource } from './generate.ts';
import {
  runBench,
  UsageError,
  cpuBusyShare,
  createBenchPostgres,
  findExecutable,
  freePort,
  gazetteEnv,
  get,
  host,
  machineLine,
  makeTempDir,
  parseWrk,
  rootDir,
  sampleRss,
  startChild,
  startGazette,
  stopChild,
  waitUntilAnswering,
  type WrkResult,
} from './harness.ts';
import { topSelfTime } from './site-profile.ts';

/** Issue 15's targets for cold renders. */
const targets = { minShareOfNodeHttp: 0.075, maxP99Ms: 50, maxRssMb: 180 } as const;

type Database = 'sqlite' | 'postgres';

interface Options {
  articles: number;
  databases: Database[];
  connections: number;
  warmupPaths: number;
  ceilingS: number;
  cpuProf: boolean;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      articles: { type: 'string', default: '40000' },
      database: { type: 'string', default: 'sqlite,postgres' },
      connections: { type: 'string', default: '64' },
      warmup: { type: 'string', default: '2000' },
      ceiling: { type: 'string', default: '10' },
      'cpu-prof': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      [
        'Usage: npm run bench:archive -- [options]',
        '  --articles N      articles to generate per database (default 40000; every 50th a draft)',
        '  --database LIST   sqlite, postgres or both (default sqlite,postgres); PostgreSQL is a throw-away database',
        '                    at BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432)',
        '  --connections N   wrk connections (default 64; wrk runs one thread, which walks the list)',
        '  --warmup N        paths walked first to warm the JIT, not measured (default 2000)',
        '  --ceiling N       seconds of the node:http ceiling run (default 10)',
        '  --cpu-prof        run Gazette under `node --cpu-prof` and print its top self-time functions',
        '                    (the profiler slows Gazette: do not quote those figures)',
      ].join('\n'),
    );
    return undefined;
  }
  const whole = (name: string, value: string, min: number): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`--${name} must be a whole number ≥ ${min}, not ${JSON.stringify(value)}`);
    return n;
  };
  const databases = values.database.split(',').map((d) => d.trim());
  for (const d of databases)
    if (d !== 'sqlite' && d !== 'postgres')
      throw new UsageError(`--database: unknown database ${JSON.stringify(d)} (sqlite or postgres)`);
  const options: Options = {
    articles: whole('articles', values.articles, 100),
    databases: databases as Database[],
    connections: whole('connections', values.connections, 1),
    warmupPaths: whole('warmup', values.warmup, 0),
    ceilingS: whole('ceiling', values.ceiling, 1),
    cpuProf: values['cpu-prof'],
  };
  if (options.warmupPaths >= options.articles / 2)
    throw new UsageError('--warmup must be under half of --articles, so most of the walk is measured');
  return options;
}

// ---------------------------------------------------------------------------------------------------------
// The walk.

interface Walk {
  paths: number;
  seconds: number;
  notOk: number;
  wrk: WrkResult;
}

const walkScript = path.join(rootDir, 'bench/archive-walk.lua');

/** wrk walks `paths` once over `connections` connections; ended by SIGINT as soon as the script says it is done. */
async function walk(wrk: string, baseUrl: string, paths: readonly string[], connections: number): Promise<Walk> {
  const dir = makeTempDir('gazette-bench-archive-walk-');
  const file = path.join(dir, 'paths.txt');
  writeFileSync(file, `${paths.join('\n')}\n`);
  // A generous -d: the walk ends wrk itself (SIGINT makes wrk stop and print its report).
  const args = ['-t1', `-c${Math.min(connections, paths.length)}`, '-d3600s', '--latency', '-s', walkScript, baseUrl];
  const child = startChild('wrk', wrk, args, { env: { ...process.env, WALK_PATHS: file } });
  const ended = setInterval(() => {
    if (child.output().includes('walk complete')) child.process.kill('SIGINT');
  }, 20);
  await child.exited;
  clearInterval(ended);
  const report = child.output();
  const match = /^walk: (\d+) (\d+) ([\d.-]+)$/m.exec(report);
  if (!match || Number(match[1]) < paths.length)
    throw new Error(`wrk did not finish the walk of ${paths.length} paths:\n${report}`);
  return {
    paths: paths.length,
    notOk: Number(match[2]),
    seconds: Number(match[3]),
    wrk: parseWrk(report, `wrk ${args.join(' ')}`),
  };
}

// ---------------------------------------------------------------------------------------------------------
// One database.

interface Measured {
  database: Database;
  walk: Walk;
  peakRssBytes: number;
  ceiling: WrkResult;
  pageBytes: number;
  generateSeconds: number;
  profile: string | undefined;
}

const databaseLabels: Record<Database, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

async function benchDatabase(wrk: string, database: Database, options: Options): Promise<Measured> {
  const label = databaseLabels[database];
  const dataDir = makeTempDir('gazette-bench-archive-data-');
  const postgres = database === 'postgres' ? await createBenchPostgres('archive') : undefined;
  try {
    const databaseUrl = postgres?.url ?? `sqlite:${path.join(dataDir, 'gazette.sqlite')}`;
    process.stdout.write(`${label}: generating ${options.articles.toLocaleString('en-US')} articles… `);
    const started = performance.now();
    const slugs = await generate(databaseUrl, options.articles);
    const generateSeconds = (performance.now() - started) / 1000;
    console.log(`${generateSeconds.toFixed(0)} s`);

    // Shuffled (seeded), so that neighbouring requests share nothing a cache could keep.
    const random = randomSource(15);
    for (let i = slugs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [slugs[i], slugs[j]] = [slugs[j] ?? '', slugs[i] ?? ''];
    }
    const paths = slugs.map((slug) => `/articles/${slug}`);
    const warm = paths.slice(0, options.warmupPaths);
    const measured = paths.slice(options.warmupPaths);

    const port = await freePort();
    const profileDir = options.cpuProf ? makeTempDir('gazette-bench-archive-prof-') : undefined;
    const env = gazetteEnv({ DATA_DIR: dataDir, PORT: String(port), DATABASE_URL: databaseUrl, SEED_DEMO: 'false' });
    const gazette = startGazette(env, profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
    const baseUrl = `http://${host}:${port}`;
    let result: Omit<Measured, 'ceiling' | 'profile'>;
    let page: Buffer;
    try {
      await waitUntilAnswering(`${baseUrl}/healthz`, gazette);
      if (warm.length > 0) {
        process.stdout.write(`${label}: warm-up walk of ${warm.length.toLocaleString('en-US')} articles… `);
        const w = await walk(wrk, baseUrl, warm, options.connections);
        console.log(`${fmtInt(w.paths / w.seconds)}/s`);
      }
      process.stdout.write(`${label}: walking ${measured.length.toLocaleString('en-US')} articles, each once… `);
      const rss = gazette.process.pid === undefined ? undefined : sampleRss(gazette.process.pid);
      const w = await walk(wrk, baseUrl, measured, options.connections);
      const peak = rss?.stop();
      console.log(
        `${fmtInt(w.paths / w.seconds)} cold renders/s, p99 ${fmtMs(w.wrk.p99Ms)} ms, peak RSS ${fmtMb(peak?.peakBytes ?? 0)} MB`,
      );
      if (w.notOk > 0) console.log(`    ! ${w.notOk} answers were not 200`);
      const sample = await get(`${baseUrl}${measured[0] ?? ''}`);
      if (sample.status !== 200 || !sample.body.includes('class="article__headline"'))
        throw new Error(`Gazette did not answer ${measured[0] ?? ''} with the article (HTTP ${sample.status})`);
      page = sample.body;
      result = { database, walk: w, peakRssBytes: peak?.peakBytes ?? 0, pageBytes: page.length, generateSeconds };
    } finally {
      await stopChild(gazette); // a graceful stop is what makes --cpu-prof write its profile
    }
    const ceiling = await nodeHttpCeiling(wrk, page, options, label);
    return { ...result, ceiling, profile: profileDir === undefined ? undefined : profileSummary(profileDir) };
  } finally {
    await postgres?.drop();
  }
}

/** Migrates, generates the articles, and returns the published slugs. */
async function generate(databaseUrl: string, articles: number): Promise<string[]> {
  const { db } = createDb(
    databaseUrl.startsWith('sqlite:')
      ? { kind: 'sqlite', file: databaseUrl.slice('sqlite:'.length) }
      : { kind: 'postgres', url: databaseUrl },
  );
  try {
    await migrateToLatest(db);
    await generateArticles(db, articles);
    const rows = await db
      .selectFrom('articles')
      .select('slug')
      .where('status', '=', 'published')
      .orderBy('id')
      .execute();
    return rows.map((row) => row.slug);
  } finally {
    await db.destroy();
  }
}

async function nodeHttpCeiling(wrk: string, page: Buffer, options: Options, label: string): Promise<WrkResult> {
  const dir = makeTempDir('gazette-bench-archive-page-');
  const file = path.join(dir, 'article.html');
  writeFileSync(file, page);
  const port = await freePort();
  const server = startChild('node:http server', process.execPath, [
    path.join(rootDir, 'bench/site-static-server.ts'),
    '--file',
    file,
    '--port',
    String(port),
    '--host',
    host,
  ]);
  try {
    const url = `http://${host}:${port}/article.html`;
    await waitUntilAnswering(url, server);
    process.stdout.write(`${label}: node:http sending the same page for ${options.ceilingS} s… `);
    const args = ['-t1', `-c${options.connections}`, `-d${options.ceilingS}s`, '--latency', url];
    const child = startChild('wrk', wrk, args);
    await child.exited;
    if (child.process.exitCode !== 0) throw new Error(`wrk ${args.join(' ')} failed:\n${child.output()}`);
    const result = parseWrk(child.output(), `wrk ${args.join(' ')}`);
    console.log(`${fmtInt(result.requestsPerSec)} req/s`);
    return result;
  } finally {
    await stopChild(server);
  }
}

function profileSummary(profileDir: string): string {
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) return `No CPU profile was written in ${profileDir}.`;
  const { functions, busyMs, totalMs } = topSelfTime(path.join(profileDir, file), rootDir, 25);
  const lines = functions.map(
    (f) => `  ${fmtInt(f.selfMs).padStart(8)}  ${(f.busyShare * 100).toFixed(1).padStart(6)}  ${f.name}  ${f.location}`,
  );
  return [
    `Gazette CPU profile (start-up, both walks): ${(busyMs / 1000).toFixed(1)} s busy of ${(totalMs / 1000).toFixed(1)} s. Top self time:`,
    `  ${'self ms'.padStart(8)}  ${'busy %'.padStart(6)}  function`,
    ...lines,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// The report.

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const fmtMb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

function report(results: Measured[], options: Options, busyBefore: number): void {
  console.log(
    `\nCold renders: ${options.articles.toLocaleString('en-US')} generated articles, each published one requested once (wrk -t1 -c${options.connections}).\n`,
  );
  const head = ['database', 'cold renders/s', 'p50 ms', 'p99 ms', 'peak RSS MB', 'node:http req/s', 'share', 'targets'];
  const rows = results.map((m) => {
    const rate = m.walk.paths / m.walk.seconds;
    const share = rate / m.ceiling.requestsPerSec;
    const misses = [
      share >= targets.minShareOfNodeHttp ? '' : `share < ${targets.minShareOfNodeHttp * 100}%`,
      m.walk.wrk.p99Ms < targets.maxP99Ms ? '' : `p99 ≥ ${targets.maxP99Ms} ms`,
      m.peakRssBytes / 2 ** 20 < targets.maxRssMb ? '' : `RSS ≥ ${targets.maxRssMb} MB`,
    ].filter((x) => x !== '');
    return [
      databaseLabels[m.database],
      fmtInt(rate),
      fmtMs(m.walk.wrk.p50Ms),
      fmtMs(m.walk.wrk.p99Ms),
      fmtMb(m.peakRssBytes),
      fmtInt(m.ceiling.requestsPerSec),
      `${(share * 100).toFixed(1)}%`,
      misses.length === 0 ? 'met' : `not met: ${misses.join(', ')}`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log(
    `\nTargets (issue 15): ≥ ${targets.minShareOfNodeHttp * 100}% of node:http sending the same page, p99 < ${targets.maxP99Ms} ms, peak RSS < ${targets.maxRssMb} MB.`,
  );

  console.log('\nFor the README:\n');
  for (const m of results) {
    const rate = m.walk.paths / m.walk.seconds;
    console.log(
      `| cold article renders, ${options.articles.toLocaleString('en-US')} articles, ${databaseLabels[m.database]} | ${fmtInt(rate)}/s, p99 ${fmtMs(m.walk.wrk.p99Ms)} ms, peak RSS ${fmtMb(m.peakRssBytes)} MB | node:http ${fmtInt(m.ceiling.requestsPerSec)} (${((rate / m.ceiling.requestsPerSec) * 100).toFixed(1)}%) | ≥ 7.5%, p99 < 50 ms, RSS < 180 MB | \`npm run bench:archive\` |`,
    );
  }
  const busy = Math.round(busyBefore * 100);
  console.log(
    `\n${results[0]?.pageBytes.toLocaleString('en-US') ?? '?'}-byte pages; ${machineLine()}; ${availableParallelism()} CPUs.`,
  );
  console.log(
    `CPU busy with other work in the second before the run: ${busy}%${busy > 10 ? ' — figures may be low and noisy' : ''}.`,
  );
  for (const m of results) if (m.profile !== undefined) console.log(`\n${databaseLabels[m.database]}: ${m.profile}`);
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) return 0;
  const wrk = findExecutable('wrk', ['/usr/bin/wrk']);
  if (wrk === undefined) {
    console.error('wrk not found: apt-get install -y wrk');
    return 1;
  }
  const busyBefore = await cpuBusyShare(1000);
  const results: Measured[] = [];
  for (const database of options.databases) results.push(await benchDatabase(wrk, database, options));
  report(results, options, busyBefore);
  return 0;
}

await runBench('bench:archive', main);
