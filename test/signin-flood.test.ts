import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { UserService } from '../src/modules/users/users.service.ts';
import { skipInFastRun } from './helpers/databases.ts';
import { csrfFrom, testPassword } from './helpers/newsroom.ts';
import { createTestSite, type TestSite } from './helpers/site.ts';

interface Answer {
  status: number;
  ms: number;
}

/** One HTTP request from `localAddress` (any 127.x.y.z works on the loopback), on a connection of its own. */
function send(
  base: string,
  options: { method: string; path: string; localAddress?: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${base}${options.path}`,
      {
        method: options.method,
        agent: false,
        headers: options.headers ?? {},
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

// Item: the sign-in throttle reserves an attempt before any hashing, and hashing is capped so that a flood
// of sign-ins cannot fill libuv's thread pool, which also serves files.
describe('a flood of sign-ins on a listening server', { skip: skipInFastRun }, () => {
  let site: TestSite;
  let base: string;
  let form: (email: string, password: string) => { headers: Record<string, string>; body: string };

  before(async () => {
    site = await createTestSite();
    await new UserService({ db: site.db, siteUrl: site.config.siteUrl, now: () => new Date() }).createUser({
      email: 'target@example.com',
      role: 'admin',
      password: testPassword,
    });
    base = await site.listen();
    const page = await fetch(`${base}/newsroom/sign-in`);
    const cookie = (page.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const csrf = csrfFrom(await page.text());
    form = (email, password) => ({
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, email, password }).toString(),
    });
  });
  after(() => site.close());

  it('evaluates at most 5 of 200 simultaneous guesses at one account, and refuses the right password among them', async () => {
    const right = 150;
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        send(base, {
          method: 'POST',
          path: '/newsroom/sign-in',
          ...form('target@example.com', i === right ? testPassword : `wrong guess ${i} here`),
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    const evaluated = statuses.filter((s) => s === 401 || s === 303).length;
    assert.ok(
      evaluated <= 5,
      `${evaluated} evaluated: ${JSON.stringify(Object.groupBy(statuses, String), (k, v: unknown) => (Array.isArray(v) ? v.length : v))}`,
    );
    assert.equal(answers[right]?.status, 429, 'the right password is refused while the account is throttled');
    assert.equal(statuses.filter((s) => s === 429).length, 200 - evaluated);
  });

  it('keeps /media answering within 100 ms (p99) while sign-ins from many addresses flood in', async () => {
    const media = await site.db
      .selectFrom('media')
      .select('file_name')
      .where('mime_type', 'like', 'image/%')
      .executeTakeFirstOrThrow();
    const mediaPath = `/media/${media.file_name}`;
    assert.equal((await send(base, { method: 'GET', path: mediaPath })).status, 200);

    // 80 sign-ins to unknown accounts, 40 at a time, each from its own loopback address (so neither
    // throttle stops them: each one would cost a scrypt).
    let flooding = true;
    const floodStatuses: number[] = [];
    const flood = (async () => {
      for (let round = 0; round < 2; round++) {
        const batch = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            send(base, {
              method: 'POST',
              path: '/newsroom/sign-in',
              localAddress: `127.0.${1 + round}.${1 + i}`,
              ...form(`nobody${round}-${i}@example.com`, 'some wrong password'),
            }),
          ),
        );
        floodStatuses.push(...batch.map((a) => a.status));
      }
      flooding = false;
    })();
    const latencies: number[] = [];
    while (flooding || latencies.length < 50) {
      const answer = await send(base, { method: 'GET', path: mediaPath });
      assert.equal(answer.status, 200);
      latencies.push(answer.ms);
    }
    await flood;
    latencies.sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    const counts = Object.fromEntries(
      Object.entries(Object.groupBy(floodStatuses, String)).map(([k, v]) => [k, v?.length]),
    );
    console.log(
      `# /media during a sign-in flood: ${latencies.length} requests, p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, max ${p(1).toFixed(1)} ms; sign-ins answered ${JSON.stringify(counts)}`,
    );
    assert.ok(
      floodStatuses.every((s) => s === 401 || s === 503),
      'each sign-in is refused as wrong, or as busy',
    );
    assert.ok(p(0.99) < 100, `p99 ${p(0.99).toFixed(1)} ms`);
  });
});
