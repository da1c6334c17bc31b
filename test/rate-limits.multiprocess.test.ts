import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, it } from 'node:test';
import { UserService } from '../src/modules/users/users.service.ts';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from './helpers/databases.ts';
import { spawnGazette } from './helpers/gazette-process.ts';
import { csrfFrom, testPassword } from './helpers/newsroom.ts';
import { freePort } from './helpers/ports.ts';

// The sign-up and sign-in limits hold for the whole site, not per process: two `gazette serve` processes
// on one database count the same hits.
describeEachDatabase('rate limits shared by two web processes', (dialect) => {
  let t: TestDatabase;
  const children: ChildProcess[] = [];
  const bases: string[] = [];

  before(async () => {
    t = await createTestDatabase(dialect);
    await new UserService({ db: t.db, siteUrl: 'http://gazette.test', now: () => new Date() }).createUser({
      email: 'shared@example.com',
      role: 'admin',
      password: testPassword,
    });
    const env = {
      DATABASE_URL: t.url,
      DATA_DIR: t.dataDir,
      SITE_URL: 'http://gazette.test',
      SECRET_KEY: 'k'.repeat(40),
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      WORKER: 'false',
      SIGNUP_LIMIT_PER_IP: '4',
      SIGNUP_LIMIT_PER_ADDRESS: '3',
    };
    const ports = [await freePort(), await freePort()];
    while (ports[1] === ports[0]) ports[1] = await freePort();
    const servers = ports.map((port) => spawnGazette(['serve'], { ...env, PORT: String(port) }));
    children.push(...servers.map((server) => server.child));
    await Promise.all(servers.map((server) => server.waitFor('Gazette is serving')));
    bases.push(...ports.map((port) => `http://127.0.0.1:${port}`));
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await t?.drop();
  });

  const signup = (base: string, email: string) =>
    fetch(`${base}/newsletter/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email, consent: 'yes', source: '/' }).toString(),
    }).then(async (response) => (await response.text(), response.status));

  it('counts sign-ups per IP across both processes: 4 of 8 simultaneous ones pass, not 4 on each', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => signup(bases[i % 2] ?? '', `reader${i}@example.com`)),
    );
    assert.deepEqual([...statuses].sort(), [200, 200, 200, 200, 429, 429, 429, 429]);
    assert.equal((await t.db.selectFrom('subscribers').select('id').execute()).length, 4);
  });

  it('counts sign-in failures per account across both processes: at most 5 of 12 guesses are looked at', async () => {
    const page = await fetch(`${bases[0]}/newsroom/sign-in`);
    const cookie = (page.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const csrf = csrfFrom(await page.text());
    const guess = (base: string, password: string) =>
      fetch(`${base}/newsroom/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, email: 'shared@example.com', password }).toString(),
      }).then(async (response) => (await response.text(), response.status));
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => guess(bases[i % 2] ?? '', `wrong guess ${i} here`)),
    );
    assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 429).length, 7, statuses.join(' '));
    assert.equal(
      await guess(bases[1] ?? '', testPassword),
      429,
      'the right password waits for the window, on either process',
    );
  });
});
