import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runGazette } from '../../../test/helpers/gazette-process.ts';
import { buildApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { createDb } from '../../db/index.ts';

/** Runs `gazette …` as an operator would, in its own process, with `input` on standard input. */
async function cli(
  dataDir: string,
  args: string[],
  input = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await runGazette(
    args,
    { DATA_DIR: dataDir, SEED_DEMO: 'false', SITE_URL: 'http://gazette.test', LOG_LEVEL: 'info' },
    { stdin: input },
  );
  return { code: code ?? -1, stdout, stderr };
}

describe('gazette user', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gazette-user-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('prints --help', async () => {
    const help = await cli(dir, ['user', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /gazette user add <email> --role <contributor\|author\|editor\|admin>/);
    assert.match((await cli(dir, ['user', 'add', '--help'])).stdout, /--password-stdin/);
    assert.match((await cli(dir, ['--help'])).stdout, /\n {2}user +Add a newsroom user/);
  });

  it('adds a user and prints a sign-in link that works once; refuses duplicates and bad roles with exit 2', async () => {
    const added = await cli(dir, ['user', 'add', 'Chief@Example.com', '--role', 'admin', '--name', 'Chief Editor']);
    assert.equal(added.code, 0, added.stderr);
    const link = /http:\/\/gazette\.test\/newsroom\/sign-in\/link\?token=([A-Za-z0-9_-]{43})/.exec(added.stdout);
    assert.ok(link, added.stdout);

    const duplicate = await cli(dir, ['user', 'add', 'chief@example.com', '--role', 'editor']);
    assert.equal(duplicate.code, 2);
    assert.equal(duplicate.stderr.trim(), 'gazette: There is already a user with that email address.');
    const badRole = await cli(dir, ['user', 'add', 'x@example.com', '--role', 'overlord']);
    assert.equal(badRole.code, 2);
    assert.equal(badRole.stderr.trim().split('\n').length, 1);
    assert.match(badRole.stderr, /--role must be one of: contributor, author, editor, admin/);
    const badEmail = await cli(dir, ['user', 'add', 'not-an-address', '--role', 'author']);
    assert.equal(badEmail.code, 2);
    const shortPassword = await cli(
      dir,
      ['user', 'add', 'short@example.com', '--role', 'author', '--password-stdin'],
      'tooshort\n',
    );
    assert.equal(shortPassword.code, 2);
    assert.match(shortPassword.stderr, /at least 12 characters/);

    const withPassword = await cli(
      dir,
      ['user', 'add', 'writer@example.com', '--role', 'contributor', '--password-stdin'],
      'a long enough password\n',
    );
    assert.equal(withPassword.code, 0, withPassword.stderr);
    assert.doesNotMatch(withPassword.stdout, /token=/);

    const list = await cli(dir, ['user', 'list']);
    assert.equal(list.code, 0);
    assert.match(
      list.stdout,
      /^Chief@example\.com\tadmin\tChief Editor\tlink only\nwriter@example\.com\tcontributor\t-\tpassword\n$/,
    );

    // The same database, served: the link signs in once; the piped password signs in.
    const config = loadConfig({ DATA_DIR: dir, SITE_URL: 'http://gazette.test', SEED_DEMO: 'false' });
    const { db } = createDb(config.database);
    const { app } = await buildApp({ config, db });
    try {
      const page = await app.inject({ method: 'GET', url: `/newsroom/sign-in/link?token=${link[1]}` });
      assert.equal(page.statusCode, 200);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      const cookie = String(page.headers['set-cookie']).split(';')[0] ?? '';
      const post = () =>
        app.inject({
          method: 'POST',
          url: '/newsroom/sign-in/link',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ _csrf: csrf, token: link[1] ?? '' }).toString(),
        });
      const first = await post();
      assert.equal(first.statusCode, 303);
      assert.match(String(first.headers['set-cookie']), /^gz_session=/);
      assert.equal((await post()).statusCode, 410);

      const signIn = await app.inject({
        method: 'POST',
        url: '/newsroom/sign-in',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          _csrf: csrf,
          email: 'writer@example.com',
          password: 'a long enough password',
        }).toString(),
      });
      assert.equal(signIn.statusCode, 303);
    } finally {
      await app.close();
      await db.destroy();
    }

    const fresh = await cli(dir, ['user', 'link', 'chief@example.com']);
    assert.equal(fresh.code, 0);
    assert.match(fresh.stdout, /^http:\/\/gazette\.test\/newsroom\/sign-in\/link\?token=[A-Za-z0-9_-]{43}\n$/);
    assert.equal((await cli(dir, ['user', 'link', 'nobody@example.com'])).code, 2);

    const badName = await cli(dir, ['user', 'add', 'named@example.com', '--role', 'author', '--name', 'two\nlines']);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /one line/);
    const disabled = await cli(dir, ['user', 'disable', 'writer@example.com']);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match((await cli(dir, ['user', 'list'])).stdout, /writer@example\.com\tcontributor\t-\tdisabled/);
    const { db: db2 } = createDb(config.database);
    const { app: app2 } = await buildApp({ config, db: db2 });
    try {
      const page = await app2.inject({ method: 'GET', url: '/newsroom/sign-in' });
      const refused = await app2.inject({
        method: 'POST',
        url: '/newsroom/sign-in',
        headers: {
          cookie: String(page.headers['set-cookie']).split(';')[0] ?? '',
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: new URLSearchParams({
          _csrf: /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '',
          email: 'writer@example.com',
          password: 'a long enough password',
        }).toString(),
      });
      assert.equal(refused.statusCode, 401);
      assert.match(refused.body, /The email or password is not right/);
    } finally {
      await app2.close();
      await db2.destroy();
    }
    assert.equal((await cli(dir, ['user', 'enable', 'writer@example.com'])).code, 0);
  });
});
