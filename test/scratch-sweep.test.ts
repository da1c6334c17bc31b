import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnGazette } from './helpers/gazette-process.ts';

describe('temporary files left by a killed process', () => {
  let dataDir = '';
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gazette-scratch-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('`gazette serve` removes those of dead processes at start, and keeps those of live ones', async () => {
    // A process that is gone (its pid exited), as after a `kill -9` mid-upload or mid-import.
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    const deadDir = path.join(dataDir, 'tmp', `${hostname()}:${dead.pid}:0badc0de`);
    const liveDir = path.join(dataDir, 'tmp', `${hostname()}:${process.pid}:11ve11ve`);
    const otherMachine = path.join(dataDir, 'tmp', 'another-host:4242:abcdabcd');
    for (const dir of [deadDir, liveDir, otherMachine]) await mkdir(dir, { recursive: true });
    await writeFile(path.join(deadDir, 'import.csv'), 'email\nreader@example.com\n');
    await writeFile(path.join(liveDir, 'upload-1'), 'in use');
    // The layout before per-process folders: an import's CSV from two hours ago, and one just written.
    await mkdir(path.join(dataDir, 'imports'));
    await writeFile(path.join(dataDir, 'imports', 'old.csv'), 'email\nold@example.com\n');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(path.join(dataDir, 'imports', 'old.csv'), twoHoursAgo, twoHoursAgo);
    await writeFile(path.join(dataDir, 'imports', 'fresh.csv'), 'email\n');

    const server = spawnGazette(['serve'], {
      DATA_DIR: dataDir,
      SEED_DEMO: 'false',
      PORT: '0',
      LOG_LEVEL: 'silent',
      SITE_URL: 'http://gazette.test',
      SHUTDOWN_DELAY_MS: '0',
    });
    await server.waitFor('Gazette is serving');
    await server.stop();
    const output = server.output();

    assert.match(output, /Removed 2 temporary files or folders left by stopped processes/);
    const tmpEntries = await readdir(path.join(dataDir, 'tmp'));
    assert.ok(!tmpEntries.includes(path.basename(deadDir)), 'the dead process’s folder is gone');
    assert.ok(tmpEntries.includes(path.basename(liveDir)), 'a live process’s folder stays');
    assert.ok(tmpEntries.includes(path.basename(otherMachine)), 'another machine’s folder stays');
    assert.deepEqual(await readdir(path.join(dataDir, 'imports')), ['fresh.csv']);
  });
});
