// `npm test`: with `--check`, the type-check and the lint first, side by side (each is one process on one
// core, and the machine has two), then every test file, each in its own process, two at a time, longest
// first (see test-run.ts). `node scripts/test.ts [file…]` runs only the files named, in the same order;
// `--record` (`npm run test:durations`) rewrites scripts/test-durations.json from the run.
import { spawn } from 'node:child_process';
import { allTestFiles, longestFirst, runTestFiles } from './test-run.ts';

/** Runs `npm run <script>`, holding its output until it ends so that two running at once do not interleave. */
function npmRun(script: string): Promise<boolean> {
  const started = Date.now();
  const child = spawn('npm', ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => {
    child.once('close', (code) => {
      process.stdout.write(output);
      console.log(
        `npm run ${script}: ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      resolve(code === 0);
    });
  });
}

const args = process.argv.slice(2);
const named = args.filter((arg) => !arg.startsWith('--'));
if (args.includes('--check') && !(await Promise.all([npmRun('typecheck'), npmRun('lint')])).every(Boolean)) {
  process.exitCode = 1;
} else {
  process.exitCode = await runTestFiles(longestFirst(named.length > 0 ? named : allTestFiles()), {
    record: args.includes('--record'),
  });
}
