// `npm run bench:site [-- --duration 10 --connections 64 --threads 2 --targets gazette,node,nginx --cpu-prof]`
//
// How fast is Gazette's article page next to the ceilings of this machine? It measures, one after another
// and with wrk, the same HTML bytes served by (1) Gazette, (2) a bare node:http server holding them in a
// Buffer (the runtime's ceiling) and (3) nginx serving them as a static file (the machine's ceiling),
// then prints the figures against the targets, a Markdown table for the README, and the machine.
// Only loopback addresses are used. Every child process is stopped at the end, on error and on Ctrl-C.
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  runBench,
  UsageError,
  cpuBusyShare,
  findExecutable,
  freePort,
  get,
  host,
  machine,
  createBenchPostgres,
  gazetteEnv,
  makeTempDir,
  rootDir,
  sampleRss,
  startChild,
  startGazette,
  stopChild,
  versionOf,
  waitUntilAnswering,
  type HttpResponse,
  parseWrk,
  type WrkResult,
} from './harness.ts';
import { topSelfTime } from './site-profile.ts';

const articlePath = '/articles/blinken-meets-herzog-ceasefire-push';
/** The article's headline: proves Gazette answered with the article, not an error page. */
const articleMarker = 'class="article__headline"';
const installHint =
  'Install the load generator and nginx: apt-get install -y wrk nginx-light (nginx binary at /usr/sbin/nginx).';

/** The targets set for the article page (docs: README, "Performance"). */
const targets = { minShareOfNodeHttp: 0.6, maxP99Ms: 15, maxRssMb: 150 } as const;

const targetNames = ['gazette', 'node', 'nginx'] as const;
type TargetName = (typeof targetNames)[number];
const targetLabels: Record<TargetName, string> = {
  gazette: 'Gazette article page',
  node: 'node:http, bytes in memory',
  nginx: 'nginx, static file',
};

interface Options {
  durationS: number;
  warmupS: number;
  connections: number;
  threads: number;
  targets: TargetName[];
  cpuProf: boolean;
  database: 'sqlite' | 'postgres';
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '64' },
      threads: { type: 'string', default: '2' },
      targets: { type: 'string', default: targetNames.join(',') },
      'cpu-prof': { type: 'boolean', default: false },
      database: { type: 'string', default: 'sqlite' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      [
        'Usage: npm run bench:site -- [options]',
        '  --duration N      seconds of each measured wrk run (default 10)',
        '  --warmup N        seconds of the wrk warm-up run before each (default 3)',
        '  --connections N   wrk connections (default 64)',
        '  --threads N       wrk threads (default 2)',
        `  --targets LIST    comma-separated subset of ${targetNames.join(',')} (default all)`,
        '  --database D      sqlite (default: a fresh file) or postgres (a throw-away database at BENCH_POSTGRES_URL,',
        '                    default postgres://postgres@127.0.0.1:5432)',
        '  --cpu-prof        run Gazette under `node --cpu-prof` and print its top self-time functions',
        '                    (the profiler slows Gazette: do not quote those figures)',
      ].join('\n'),
    );
    return undefined;
  }
  const positive = (name: string, value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`--${name} must be a positive whole number, not ${JSON.stringify(value)}`);
    return n;
  };
  const chosen = values.targets
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  for (const t of chosen)
    if (!(targetNames as readonly string[]).includes(t))
      throw new UsageError(`--targets: unknown target ${JSON.stringify(t)} (choose from ${targetNames.join(', ')})`);
  return {
    durationS: positive('duration', values.duration),
    warmupS: positive('warmup', values.warmup),
    connections: positive('connections', values.connections),
    threads: positive('threads', values.threads),
    targets: targetNames.filter((t) => chosen.includes(t)),
    cpuProf: values['cpu-prof'],
    database: parseDatabase(values.database),
  };
}

function parseDatabase(value: string): Options['database'] {
  if (value !== 'sqlite' && value !== 'postgres')
    throw new UsageError(`--database must be sqlite or postgres, not ${JSON.stringify(value)}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// wrk.

async function runWrk(
  wrk: string,
  url: string,
  options: Options,
  durationS: number,
  latency: boolean,
): Promise<string> {
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${durationS}s`,
    ...(latency ? ['--latency'] : []),
    url,
  ];
  const child = startChild('wrk', wrk, args);
  await child.exited;
  if (child.process.exitCode !== 0)
    throw new Error(
      `wrk ${args.join(' ')} failed (exit ${String(child.process.exitCode ?? child.process.signalCode)}):\n${child.output()}`,
    );
  return child.output();
}

/** A short warm-up run, then the measured one. */
async function measure(wrk: string, label: string, url: string, options: Options): Promise<WrkResult> {
  process.stdout.write(`  ${label}: warm-up ${options.warmupS} s, `);
  await runWrk(wrk, url, options, options.warmupS, false);
  process.stdout.write(`measuring ${options.durationS} s… `);
  const command = `wrk -t${options.threads} -c${options.connections} -d${options.durationS}s --latency ${url}`;
  const result = parseWrk(await runWrk(wrk, url, options, options.durationS, true), command);
  console.log(`${fmtInt(result.requestsPerSec)} req/s, p99 ${fmtMs(result.p99Ms)} ms`);
  const { connect, read, write, timeout } = result.socketErrors;
  if (connect + read + write + timeout > 0)
    console.log(`    ! socket errors: connect ${connect}, read ${read}, write ${write}, timeout ${timeout}`);
  if (result.non2xx3xx > 0) console.log(`    ! ${result.non2xx3xx} responses were not 2xx or 3xx`);
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// The three servers.

interface Measured {
  name: TargetName;
  result: WrkResult;
  headerBytes: number;
}

function assertSameBytes(label: string, response: HttpResponse, expected: Buffer): void {
  if (response.status !== 200 || !response.body.equals(expected)) {
    throw new Error(
      `${label} did not answer 200 with the article's ${expected.length} bytes (got HTTP ${response.status}, ${response.body.length} bytes)`,
    );
  }
}

/** Peak VmRSS of Gazette's process during the warm-up and measured wrk runs of the article page. */
let gazettePeakRss: { peakBytes: number; samples: number } | undefined;

async function benchGazette(
  wrk: string,
  options: Options,
): Promise<{ html: Buffer; measured: Measured | undefined; profileDir: string | undefined }> {
  const dataDir = makeTempDir('gazette-bench-site-data-');
  const profileDir = options.cpuProf ? makeTempDir('gazette-bench-site-prof-') : undefined;
  const port = await freePort();
  // A fresh database (a SQLite file in DATA_DIR, or a throw-away PostgreSQL one) seeded with the demo.
  const postgres = options.database === 'postgres' ? await createBenchPostgres('site') : undefined;
  const env = gazetteEnv({
    DATA_DIR: dataDir,
    PORT: String(port),
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
  });
  const nodeFlags = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const gazette = startGazette(env, nodeFlags);
  try {
    const url = `http://${host}:${port}${articlePath}`;
    await waitUntilAnswering(url, gazette);
    for (let i = 0; i < 50; i++) await get(url); // warm the page cache and the JIT
    const page = await get(url);
    const html = page.body.toString('utf8');
    if (page.status !== 200 || !page.contentType.startsWith('text/html') || !html.includes(articleMarker)) {
      throw new Error(
        `Gazette did not answer ${url} with the article (HTTP ${page.status}, ${page.contentType}, ${page.body.length} bytes):\n${html.slice(0, 500)}`,
      );
    }
    let measured: Measured | undefined;
    if (options.targets.includes('gazette')) {
      const rss = gazette.process.pid === undefined ? undefined : sampleRss(gazette.process.pid);
      measured = {
        name: 'gazette' as const,
        result: await measure(wrk, targetLabels.gazette, url, options),
        headerBytes: page.headerBytes,
      };
      gazettePeakRss = rss?.stop();
    }
    return { html: page.body, measured, profileDir };
  } finally {
    await stopChild(gazette); // a graceful stop is what makes --cpu-prof write its profile
    await postgres?.drop();
  }
}

async function benchNodeHttp(wrk: string, options: Options, htmlFile: string, html: Buffer): Promise<Measured> {
  const port = await freePort();
  const server = startChild('node:http server', process.execPath, [
    path.join(rootDir, 'bench/site-static-server.ts'),
    '--file',
    htmlFile,
    '--port',
    String(port),
    '--host',
    host,
  ]);
  try {
    const url = `http://${host}:${port}/article.html`;
    await waitUntilAnswering(url, server);
    const page = await get(url);
    assertSameBytes('The node:http server', page, html);
    return { name: 'node', result: await measure(wrk, targetLabels.node, url, options), headerBytes: page.headerBytes };
  } finally {
    await stopChild(server);
  }
}

async function benchNginx(wrk: string, nginx: string, options: Options, html: Buffer): Promise<Measured> {
  const dir = makeTempDir('gazette-bench-site-nginx-');
  const port = await freePort();
  const webRoot = path.join(dir, 'www');
  mkdirSync(webRoot);
  writeFileSync(path.join(webRoot, 'index.html'), html);
  writeFileSync(path.join(webRoot, 'article.html'), html);
  // Started as root, nginx's workers run as `nobody`: they must be able to read the (0700) temp dir.
  chmodSync(dir, 0o755);
  chmodSync(webRoot, 0o755);
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `# Written by bench/site.ts: nginx serving one static file, tuned as a production static server would be.
daemon off;
master_process on;
worker_processes auto;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
  types { text/html html; }
  default_type text/html;
  charset utf-8;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  open_file_cache max=16 inactive=60s;
  keepalive_timeout 65s;
  # nginx closes a keep-alive connection after 1000 requests by default; Node never does. Match Node.
  keepalive_requests 100000000;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen ${host}:${port};
    root ${webRoot};
    index index.html;
  }
}
`,
  );
  // -e: the start-up error log, before the configuration's error_log applies (nginx ≥ 1.19.5).
  const server = startChild('nginx', nginx, ['-c', conf, '-p', dir, '-e', path.join(dir, 'error.log')]);
  try {
    const url = `http://${host}:${port}/article.html`;
    await waitUntilAnswering(url, server);
    const page = await get(url);
    assertSameBytes('nginx', page, html);
    return {
      name: 'nginx',
      result: await measure(wrk, targetLabels.nginx, url, options),
      headerBytes: page.headerBytes,
    };
  } finally {
    await stopChild(server);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The report.

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const fmtShare = (part: number, whole: number | undefined) =>
  whole === undefined || whole === 0 ? '–' : `${Math.round((part / whole) * 100)}%`;

function report(
  results: Measured[],
  options: Options,
  html: Buffer,
  nginxNote: string | undefined,
  versions: string[],
): void {
  const byName = new Map(results.map((m) => [m.name, m.result]));
  const nodeRps = byName.get('node')?.requestsPerSec;
  const nginxRps = byName.get('nginx')?.requestsPerSec;
  const databaseLabel = options.database === 'postgres' ? 'PostgreSQL' : 'SQLite';
  const rows = results.map((m) => ({
    label: m.name === 'gazette' ? `${targetLabels.gazette} (${databaseLabel})` : targetLabels[m.name],
    rps: fmtInt(m.result.requestsPerSec),
    p50: fmtMs(m.result.p50Ms),
    p99: fmtMs(m.result.p99Ms),
    vsNode: fmtShare(m.result.requestsPerSec, nodeRps),
    vsNginx: fmtShare(m.result.requestsPerSec, nginxRps),
    headers: String(m.headerBytes),
  }));

  const head = ['target', 'req/s', 'p50 ms', 'p99 ms', 'vs node:http', 'vs nginx', 'header B'];
  const cells = rows.map((r) => [r.label, r.rps, r.p50, r.p99, r.vsNode, r.vsNginx, r.headers]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) =>
    c.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ');
  console.log(
    `\nResults (${options.connections} connections, ${options.threads} wrk threads, ${options.durationS} s each, run one after another):\n`,
  );
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
  console.log(
    `\nResponse body: ${html.length.toLocaleString('en-US')} bytes of HTML, the same bytes from every server (checked); "header B" is the status line and headers.`,
  );
  if (nginxNote !== undefined) console.log(nginxNote);

  const gazette = byName.get('gazette');
  if (gazette) {
    console.log('\nTargets for the article page:');
    if (nodeRps === undefined) console.log('  ≥ 60% of node:http req/s: not measured (node target not run)');
    else {
      const share = gazette.requestsPerSec / nodeRps;
      console.log(
        `  ≥ ${targets.minShareOfNodeHttp * 100}% of node:http req/s: ${share >= targets.minShareOfNodeHttp ? 'MET' : 'NOT MET'} (${Math.round(share * 100)}%)`,
      );
    }
    console.log(
      `  p99 < ${targets.maxP99Ms} ms: ${gazette.p99Ms < targets.maxP99Ms ? 'MET' : 'NOT MET'} (${fmtMs(gazette.p99Ms)} ms)`,
    );
    if (gazettePeakRss !== undefined) {
      const mb = gazettePeakRss.peakBytes / 2 ** 20;
      console.log(
        `  memory, RSS < ${targets.maxRssMb} MB under this load: ${mb < targets.maxRssMb ? 'MET' : 'NOT MET'} (peak VmRSS ${mb.toFixed(0)} MB over ${gazettePeakRss.samples} samples of /proc/<pid>/status, every 100 ms)`,
      );
    }
  }

  console.log('\nMachine:');
  for (const l of [...machine(), ...versions]) console.log(`  ${l}`);
  console.log('  The load generator (wrk) runs on the same machine and shares its CPUs with the server.');
  console.log('\nCommand:');
  console.log(
    `  npm run bench:site -- --duration ${options.durationS} --connections ${options.connections} --threads ${options.threads}${options.database === 'postgres' ? ' --database postgres' : ''}${options.cpuProf ? ' --cpu-prof' : ''}`,
  );
  for (const m of results)
    console.log(`  ${m.result.command}   # ${targetLabels[m.name]}, after a ${options.warmupS} s warm-up run`);

  console.log('\nMarkdown (README):\n');
  console.log('| Serving the article page | Requests/s | p50 | p99 | vs node:http | vs nginx |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows)
    console.log(`| ${r.label} | ${r.rps} | ${r.p50} ms | ${r.p99} ms | ${r.vsNode} | ${r.vsNginx} |`);
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  console.log(
    `\n${html.length.toLocaleString('en-US')}-byte page, wrk -t${options.threads} -c${options.connections} -d${options.durationS}s on loopback, ` +
      `${availableParallelism()} × ${cpu}, Node ${process.version}; \`npm run bench:site${options.database === 'postgres' ? ' -- --database postgres' : ''}\`.`,
  );
}

function printProfile(profileDir: string): void {
  const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  const file = files[0];
  if (file === undefined) {
    console.log(`\nNo CPU profile was written in ${profileDir} (did Gazette stop gracefully?).`);
    return;
  }
  const { functions, busyMs, totalMs } = topSelfTime(path.join(profileDir, file), rootDir);
  console.log(
    `\nGazette CPU profile (whole process life: start-up, warm-up and wrk runs): ${(busyMs / 1000).toFixed(1)} s busy of ${(totalMs / 1000).toFixed(1)} s. Top self time:\n`,
  );
  console.log(`  ${'self ms'.padStart(8)}  ${'busy %'.padStart(6)}  function`);
  for (const f of functions)
    console.log(
      `  ${fmtInt(f.selfMs).padStart(8)}  ${(f.busyShare * 100).toFixed(1).padStart(6)}  ${f.name}  ${f.location}`,
    );
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) return 0;
  const wrk = findExecutable('wrk', ['/usr/bin/wrk']);
  if (wrk === undefined) {
    console.error(`wrk not found. ${installHint}`);
    return 1;
  }
  const nginx = findExecutable('nginx', ['/usr/sbin/nginx']);
  let nginxNote: string | undefined;
  if (nginx === undefined && options.targets.includes('nginx'))
    nginxNote = `nginx not found, so its row is skipped. ${installHint}`;

  // Other work on the machine skews every figure: record how busy it was just before we started.
  const busyBefore = await cpuBusyShare(1000);
  const versions = [await versionOf(wrk, ['-v'])];
  if (nginx !== undefined) versions.push(await versionOf(nginx, ['-v']));

  console.log(
    `bench:site — the article page ${articlePath}, ${options.connections} connections, ${options.durationS} s per target\n`,
  );
  const results: Measured[] = [];
  const gazette = await benchGazette(wrk, options);
  if (gazette.measured) results.push(gazette.measured);
  const htmlDir = makeTempDir('gazette-bench-site-html-');
  const htmlFile = path.join(htmlDir, 'article.html');
  writeFileSync(htmlFile, gazette.html);
  if (options.targets.includes('node')) results.push(await benchNodeHttp(wrk, options, htmlFile, gazette.html));
  if (options.targets.includes('nginx') && nginx !== undefined)
    results.push(await benchNginx(wrk, nginx, options, gazette.html));

  const busyPercent = Math.round(busyBefore * 100);
  versions.push(
    `CPU busy with other work in the second before the run: ${busyPercent}%${busyPercent > 10 ? ' — figures may be low and noisy' : ''}`,
  );
  report(results, options, gazette.html, nginxNote, versions);
  if (gazette.profileDir !== undefined) printProfile(gazette.profileDir);
  return 0;
}

await runBench('bench:site', main);
