// Runs test files the way `node --test --test-concurrency=2` does (each file in its own process, two at a
// time, the spec reporter), but longest first. `node --test` sorts the files it is given by path, which
// started the longest ones (the 100,000-reader kill test, the browser suites, all under test/) last and
// left one core idle for a minute or more at the end; `run()` keeps the order it is given. The order is
// longest-processing-time first from scripts/test-durations.json, which `npm run test:durations` rewrites
// from a full run; a file not in it yet is placed by what it starts (a browser, processes, neither).
import { globSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const root = path.join(import.meta.dirname, '..');
const durationsFile = path.join(root, 'scripts', 'test-durations.json');

/** Every test file, relative to the repository root, sorted by path. */
export function allTestFiles(): string[] {
  return globSync(['src/**/*.test.ts', 'test/**/*.test.ts'], {
    cwd: root,
    exclude: (name) => name === 'node_modules',
  }).sort();
}

/** Seconds a file took in a recorded run, by path; empty if there is no record. */
function recordedSeconds(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(durationsFile, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

/** A guess for a file not recorded yet, from what it imports: a browser, another process, or neither. */
function guessSeconds(file: string): number {
  const source = readFileSync(path.join(root, file), 'utf8');
  if (/from '[./]+(test\/)?helpers\/browser\.ts'/.test(source)) return 20;
  if (/from '(node:child_process|[./]+(test\/)?helpers\/(gazette-process|nginx)\.ts)'/.test(source)) return 8;
  return 2;
}

/** `files` longest first (by record, else by guess); ties keep path order. */
export function longestFirst(files: string[]): string[] {
  const recorded = recordedSeconds();
  const seconds = new Map(files.map((file) => [file, recorded[file] ?? guessSeconds(file)]));
  return files.toSorted((a, b) => (seconds.get(b) ?? 0) - (seconds.get(a) ?? 0) || a.localeCompare(b));
}

/**
 * Runs `files` in the given order, two at a time, printing the spec report; resolves with the exit code
 * (1 if any test failed). With `record`, writes the duration of each file that passed to
 * scripts/test-durations.json.
 */
export async function runTestFiles(files: string[], options: { record?: boolean } = {}): Promise<number> {
  // Each test process loads the same thousand modules (kysely alone is 260 files): with the compile cache
  // that `gazette` keeps (bin/gazette.js, same folder), it skips stripping and compiling what it has seen.
  process.env.NODE_COMPILE_CACHE ??= path.join(tmpdir(), 'node-compile-cache');
  let failed = false;
  const seconds: Record<string, number> = {};
  const stream = run({ files: files.map((file) => path.join(root, file)), cwd: root, concurrency: 2 });
  stream.on('test:fail', (data) => {
    if (!data.todo) failed = true;
  });
  stream.on('test:summary', (data) => {
    // A failed file's time says little about its next run.
    if (data.file && data.success) seconds[path.relative(root, data.file)] = Math.round(data.duration_ms / 100) / 10;
  });
  await pipeline(stream, new spec(), process.stdout, { end: false });
  if (options.record) {
    // Files this run did not time (not run, or failed) keep their recorded time while they exist.
    const existing = new Set(allTestFiles());
    const kept = Object.entries(recordedSeconds()).filter(([file]) => existing.has(file) && !(file in seconds));
    const sorted = [...kept, ...Object.entries(seconds)].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
    writeFileSync(durationsFile, `${JSON.stringify(Object.fromEntries(sorted), null, 2)}\n`);
    console.log(
      `Wrote the durations of ${sorted.length} test files to ${path.relative(root, durationsFile)} (${kept.length} kept from before).`,
    );
  }
  return failed ? 1 : 0;
}
