import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { eventually } from './eventually.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** A `gazette` command run as its own process (bin/gazette.js with this Node), as an operator would. */
export interface GazetteProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout and stderr so far, interleaved as they came (the last 20,000 characters). */
  output: () => string;
  /** stdout alone, all of it (e.g. JSON log lines). */
  stdout: () => string;
  /** stderr alone, all of it. */
  stderr: () => string;
  /** Resolves once `text` has been printed; rejects if the process exits or `ms` pass first. */
  waitFor: (text: string | RegExp, ms?: number) => Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop: () => Promise<void>;
}

/**
 * Only what a test names reaches the child: no DATABASE_URL or SMTP_URL leaking from the caller. `stdin`,
 * when given, is written to the command's standard input (e.g. `--password-stdin`), which is then closed.
 */
export function spawnGazette(args: string[], env: NodeJS.ProcessEnv, options: { stdin?: string } = {}): GazetteProcess {
  const child = spawn(process.execPath, [path.join(root, 'bin/gazette.js'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(options.stdin);
  let output = '';
  let stdout = '';
  let stderr = '';
  const collect = (d: Buffer) => (output = (output + d.toString()).slice(-20_000));
  child.stdout?.on('data', (d: Buffer) => (collect(d), (stdout += d.toString())));
  child.stderr?.on('data', (d: Buffer) => (collect(d), (stderr += d.toString())));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const printed = (text: string | RegExp) => (typeof text === 'string' ? output.includes(text) : text.test(output));
  const waitFor = async (text: string | RegExp, ms = 30_000) => {
    await eventually(
      () => {
        if (printed(text)) return true;
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`gazette ${args.join(' ')} exited before printing “${String(text)}”:\n${output}`);
        return false;
      },
      () => `“${String(text)}” from gazette ${args.join(' ')}:\n${output}`,
      ms,
    );
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return { child, exited, output: () => output, stdout: () => stdout, stderr: () => stderr, waitFor, stop };
}

/** Runs a short `gazette` command to its end. */
export async function runGazette(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { stdin?: string } = {},
): Promise<{ code: number | null; output: string; stdout: string; stderr: string }> {
  const run = spawnGazette(args, env, options);
  const { code } = await run.exited;
  return { code, output: run.output(), stdout: run.stdout(), stderr: run.stderr() };
}
