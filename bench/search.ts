// `npm run bench:search [-- --postgres] [-- --articles=N] [-- --queries=N]`
// Search latency over 100,000 articles: a temp database (SQLite file, or a PostgreSQL database created and
// dropped at 127.0.0.1:5432), filled by bench/generate.ts, then a few hundred varied queries through
// the search service exactly as GET /search calls it (count, one page of ranked matches with snippets,
// hydration). Prints p50/p95/p99 overall and per kind of query, beside the target p95 < 50 ms.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createDb, type Db } from '../src/db/index.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { searchArticles } from '../src/modules/search/search.service.ts';
import { createCorpus, generateArticles } from './generate.ts';
import { benchQueries } from './search-data.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) =>
  Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const usePostgres = args.includes('--postgres');
const articleCount = option('articles', 100_000);
const queryCount = option('queries', 400);
const targetP95Ms = 50;
const postgresAdminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
const ms = (n: number) => `${n.toFixed(1)} ms`.padStart(9);

async function openDatabase(): Promise<{ db: Db; label: string; cleanup: () => Promise<void> }> {
  if (!usePostgres) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gazette-bench-search-'));
    const { db } = createDb({ kind: 'sqlite', file: path.join(dir, 'bench.sqlite') });
    return {
      db,
      label: 'SQLite (node:sqlite, FTS5)',
      cleanup: async () => (await db.destroy(), await rm(dir, { recursive: true, force: true })),
    };
  }
  const name = `gazette_bench_search_${process.pid}`;
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  const { db } = createDb({ kind: 'postgres', url: url.toString() });
  return {
    db,
    label: 'PostgreSQL (tsvector + GIN)',
    cleanup: async () => {
      await db.destroy();
      const c = new pg.Client({ connectionString: postgresAdminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function main(): Promise<void> {
  const { db, label, cleanup } = await openDatabase();
  try {
    await migrateToLatest(db);
    const corpus = createCorpus();
    const loadStart = performance.now();
    await generateArticles(db, articleCount, {
      corpus,
      onProgress: (done) => process.stdout.write(`  ${done.toLocaleString('en-GB')} articles…\n`),
    });
    const loadSeconds = (performance.now() - loadStart) / 1000;
    // What autovacuum does to a live database after a bulk load: statistics for the planner, and the GIN
    // index's pending list merged (otherwise every search reads it through). This server has autovacuum off.
    if (usePostgres) await (await import('kysely')).sql`VACUUM ANALYZE articles`.execute(db);
    console.log(
      `${label}: ${articleCount.toLocaleString('en-GB')} articles inserted and indexed in ${loadSeconds.toFixed(1)} s`,
    );

    const queries = benchQueries(corpus, queryCount);
    for (const { q } of queries.slice(0, 30)) await searchArticles(db, q); // warm-up: caches, prepared plans
    const byKind = new Map<string, number[]>();
    const all: number[] = [];
    let matched = 0;
    for (const { kind, q } of queries) {
      const t0 = performance.now();
      const found = await searchArticles(db, q);
      const elapsed = performance.now() - t0;
      all.push(elapsed);
      if (found.total > 0) matched++;
      const list = byKind.get(kind) ?? [];
      list.push(elapsed);
      byKind.set(kind, list);
    }
    all.sort((a, b) => a - b);
    console.log(`\n${queries.length} queries (${matched} with results), one at a time, in-process service calls:`);
    console.log(
      `${'kind'.padEnd(16)} ${'n'.padStart(4)} ${'p50'.padStart(9)} ${'p95'.padStart(9)} ${'p99'.padStart(9)}`,
    );
    for (const [kind, times] of [...byKind.entries()].sort()) {
      times.sort((a, b) => a - b);
      console.log(
        `${kind.padEnd(16)} ${String(times.length).padStart(4)} ${ms(percentile(times, 50))} ${ms(percentile(times, 95))} ${ms(percentile(times, 99))}`,
      );
    }
    const p95 = percentile(all, 95);
    console.log(
      `${'all'.padEnd(16)} ${String(all.length).padStart(4)} ${ms(percentile(all, 50))} ${ms(p95)} ${ms(percentile(all, 99))}`,
    );
    console.log(
      `\nsearch, ${articleCount.toLocaleString('en-GB')} articles, ${label}: p95 ${p95.toFixed(1)} ms (target < ${targetP95Ms} ms) ${p95 < targetP95Ms ? 'PASS' : 'FAIL'}`,
    );
    console.log(
      `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
    );
    if (p95 >= targetP95Ms) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

await main();
