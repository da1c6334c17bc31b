import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

/** A `gazette` command run as its own process (bin/gazette.js with this Node), as an operator would. */
export interface GazetteProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout and stderr so far (the last 20,000 characters). */
  output: () => string;
  /** Resolves once `text` has been printed; rejects if the process exits or `ms` pass first. */
  waitFor: (text: string, ms?: number) => Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop: () => Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Only what a test names reaches the child: no DATABASE_URL or SMTP_URL leaking from the caller. */
export function spawnGazette(args: string[], env: NodeJS.ProcessEnv): GazetteProcess {
  const child = spawn(process.execPath, [path.join(root, 'bin/gazette.js'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (d: Buffer) => (output = (output + d.toString()).slice(-20_000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = async (text: string, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (!output.includes(text)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no “${text}” from gazette ${args.join(' ')}:\n${output}`);
      await sleep(20);
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return { child, exited, output: () => output, waitFor, stop };
}

/** Runs a short `gazette` command to its end. */
export async function runGazette(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const run = spawnGazette(args, env);
  const { code } = await run.exited;
  return { code, output: run.output() };
}
