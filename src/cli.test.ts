import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../test/helpers/eventually.ts';
import { type GazetteProcess, runGazette, spawnGazette } from '../test/helpers/gazette-process.ts';
import { freePort } from '../test/helpers/ports.ts';
import { environmentReference } from './config.ts';
import { firstAdminHint } from './server.ts';

/** Runs `gazette …` as a user would, with its exit code and both output streams. */
async function gazette(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runGazette(args, { LOG_LEVEL: 'info', ...env });
}

describe('the gazette command', () => {
  let dataDir = '';
  // `gazette --help` is read by two tests; one process answers both.
  let helpRun: ReturnType<typeof gazette> | undefined;
  const help = () => (helpRun ??= gazette(['--help']));
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gazette-cli-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lists its commands with --help, and each command has its own --help', async () => {
    const [usage, ...own] = await Promise.all([
      help(),
      ...['serve', 'migrate'].map((command) => gazette([command, '--help'])),
    ]);
    assert.equal(usage.code, 0);
    assert.match(usage.stdout, /Usage: gazette <command>/);
    assert.match(usage.stdout, /serve/);
    assert.match(usage.stdout, /migrate/);
    for (const [i, command] of ['serve', 'migrate'].entries()) {
      assert.equal(own[i]?.code, 0);
      assert.match(own[i]?.stdout ?? '', new RegExp(`Usage: gazette ${command}`));
    }
  });

  it('--help lists every environment variable with its default, from the schema docs/configuration.md is made from', async () => {
    const usage = await help();
    assert.equal(usage.code, 0);
    for (const variable of environmentReference())
      assert.match(
        usage.stdout,
        new RegExp(`^  ${variable.name} +(default|unset)`, 'm'),
        `${variable.name} is missing`,
      );
    assert.match(
      usage.stdout,
      /^ {2}MEDIA_MAX_IMAGE_BYTES +default 20971520; integer ≥ 1024\n {6}Largest image upload/m,
    );
    assert.match(usage.stdout, /^ {2}SIGNUP_LIMIT_PER_IP +default 20/m);
    assert.match(usage.stdout, /^ {2}S3_REGION +default AWS_REGION, else us-east-1/m);
  });

  it('refuses an unknown command with the usage and exit code 2', async () => {
    const result = await gazette(['frobnicate']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Unknown command 'frobnicate'/);
  });

  it('migrates an empty database, then reports it up to date', async () => {
    const first = await gazette(['migrate'], { DATA_DIR: dataDir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Applied \d+_initial/);
    const second = await gazette(['migrate'], { DATA_DIR: dataDir });
    assert.equal(second.stdout.trim(), 'The schema is up to date.');
  });

  it('stops on a bad environment variable with one line naming it, and no stack trace', async () => {
    const result = await gazette(['migrate'], { PORT: 'eighty', DATA_DIR: dataDir });
    assert.equal(result.code, 2);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /^gazette: Invalid PORT="eighty"/);
    assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+/);
  });

  describe('serve', () => {
    let child: ChildProcess | undefined;
    after(() => child?.kill('SIGKILL'));

    /** Starts `gazette serve`, resolves once it is listening. */
    async function start(env: Record<string, string>): Promise<GazetteProcess> {
      const server = spawnGazette(['serve'], env);
      child = server.child;
      await server.waitFor('Gazette is serving', 20_000);
      return server;
    }

    async function stop(server: GazetteProcess): Promise<number | null> {
      await server.stop();
      return (await server.exited).code;
    }

    it('seeds the demo on first start, serves it, shuts down on SIGTERM, and never re-seeds', async () => {
      const port = await freePort();
      const env = { DATA_DIR: path.join(dataDir, 'serve'), PORT: String(port) };
      const first = await start(env);
      assert.match(first.output(), /Seeded the demo publication, The Judean/);
      const home = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(home.status, 200);
      const body = await home.text();
      assert.match(body, /The Judean/);
      assert.match(body, /Blinken/);
      assert.equal(await stop(first), 0);

      const second = await start(env);
      assert.doesNotMatch(second.output(), /Seeded/);
      const again = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      assert.equal((again.match(/class="story[ "]/g) ?? []).length, (body.match(/class="story[ "]/g) ?? []).length);
      assert.equal(await stop(second), 0);
    });

    it('writes JSON lines when its output is not a terminal, and tells a fresh install how to make the first admin', async () => {
      const port = await freePort();
      const env = {
        DATA_DIR: path.join(dataDir, 'first-run'),
        PORT: String(port),
        SEED_DEMO: 'false',
        LOG_LEVEL: 'info',
        LOG_FORMAT: '',
      };
      const first = await start(env);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      const entries = () =>
        first
          .stdout()
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { level: number; msg: string; path?: string });
      await eventually(
        () => entries().some((e) => e.msg === 'request' && e.path === '/healthz'),
        () => `the request's log line:\n${first.output()}`,
        10_000,
      );
      assert.ok(entries().some((e) => e.level === 30 && e.msg.startsWith('Gazette is serving')));
      const hint = entries().find((e) => e.msg === firstAdminHint);
      assert.ok(hint, first.stdout());
      assert.equal(await stop(first), 0);

      // The command the hint gives works as printed, and the hint is gone once an admin exists.
      const command = /npx gazette (.+)$/.exec(hint.msg)?.[1] ?? '';
      const args = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
      const added = await gazette(args, env);
      assert.equal(added.code, 0, added.stderr);
      assert.match(added.stdout, /Added you@example\.com \(admin\)/);
      const second = await start(env);
      assert.ok(!second.output().includes('No newsroom admin yet'), second.output());
      assert.equal(await stop(second), 0);
    });

    it('explains a port that is already taken in one line', async () => {
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const address = blocker.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      try {
        const result = await gazette(['serve'], {
          DATA_DIR: path.join(dataDir, 'busy'),
          PORT: String(port),
          LOG_LEVEL: 'silent',
        });
        assert.equal(result.code, 1);
        assert.match(result.stderr, /port is already in use/);
      } finally {
        blocker.close();
      }
    });
  });
});
