// `npm run test:fast`: the tests for the edit loop. Every test file except those that start a browser or
// another process (a `gazette` command, nginx, ffmpeg, openssl): they are found by what they import, so a
// new test is sorted without a list to keep. GAZETTE_FAST=1 also skips the few scale tests inside the files
// that run (they say so). `npm test` runs everything.
import { spawn } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(import.meta.dirname, '..');
const slow = /from '(node:child_process|playwright-core|[./]+(test\/)?helpers\/(browser|gazette-process|nginx)\.ts)'/;

const files = globSync(['src/**/*.test.ts', 'test/**/*.test.ts'], { cwd: root }).sort();
const fast = files.filter((file) => !slow.test(readFileSync(path.join(root, file), 'utf8')));
console.log(`test:fast: ${fast.length} of ${files.length} test files (the others start a browser or a process: npm test runs them).`);

const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...fast], { cwd: root, stdio: 'inherit', env: { ...process.env, GAZETTE_FAST: '1' } });
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
