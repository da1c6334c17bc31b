/**
 * Without PostgreSQL, the repository suites' PostgreSQL half is reported by the test runner as skipped (its
 * `skipped` count), never as a pass; with GAZETTE_REQUIRE_POSTGRES=1 it fails. Run as a developer runs one
 * file, against a port where nothing listens.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';
import { freePort } from './helpers/ports.ts';

const root = path.join(import.meta.dirname, '..');
const suite = 'src/modules/users/users.service.test.ts'; // a small describeEachDatabase suite

function runSuite(env: NodeJS.ProcessEnv): Promise<{ code: number; tap: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--test', '--test-reporter=tap', suite],
      { cwd: root, env: { PATH: process.env.PATH, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, tap: stdout + stderr }),
    );
  });
}

it('a missing PostgreSQL is a skip the runner counts, or with GAZETTE_REQUIRE_POSTGRES=1 a failure', async () => {
  const nowhere = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
  const skipped = await runSuite({ TEST_POSTGRES_URL: nowhere });
  assert.equal(skipped.code, 0, skipped.tap);
  assert.match(skipped.tap, new RegExp(`# SKIP PostgreSQL at ${nowhere.replace(/[.?]/g, '\\$&')} is not reachable`));
  assert.match(skipped.tap, /^# skipped 1$/m);
  assert.match(skipped.tap, /^# fail 0$/m);

  const required = await runSuite({ TEST_POSTGRES_URL: nowhere, GAZETTE_REQUIRE_POSTGRES: '1' });
  assert.equal(required.code, 1, required.tap);
  assert.match(required.tap, /PostgreSQL is required \(GAZETTE_REQUIRE_POSTGRES=1\)/);
});
