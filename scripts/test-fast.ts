// `npm run test:fast`: the tests for the edit loop. Every test file except those that start a browser or
// another process (a `gazette` command, nginx, ffmpeg, openssl): they are found by what they import, so a
// new test is sorted without a list to keep. GAZETTE_FAST=1 also skips the few scale tests inside the files
// that run (they say so). `npm test` runs everything.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { allTestFiles, longestFirst, runTestFiles } from './test-run.ts';

const root = path.join(import.meta.dirname, '..');
const slow = /from '(node:child_process|playwright-core|[./]+(test\/)?helpers\/(browser|gazette-process|nginx)\.ts)'/;

const files = allTestFiles();
const fast = files.filter((file) => !slow.test(readFileSync(path.join(root, file), 'utf8')));
console.log(
  `test:fast: ${fast.length} of ${files.length} test files (the others start a browser or a process: npm test runs them).`,
);

// The test processes inherit the environment.
process.env.GAZETTE_FAST = '1';
process.exitCode = await runTestFiles(longestFirst(fast));
