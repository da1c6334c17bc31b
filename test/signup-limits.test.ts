import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createTestSite, type TestSite } from './helpers/site.ts';

// SIGNUP_LIMIT_PER_IP / SIGNUP_LIMIT_PER_ADDRESS: the sign-up limits are configuration (bench:signups lifts them).
describe('sign-up rate limits from the environment', () => {
  const sites: TestSite[] = [];
  after(async () => {
    for (const site of sites) await site.close();
  });
  const signup = (site: TestSite, email: string) =>
    site.app.inject({
      method: 'POST',
      url: '/newsletter/subscribe',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email, consent: 'yes', source: '/' }).toString(),
      remoteAddress: '198.51.100.7',
    });

  it('SIGNUP_LIMIT_PER_IP=3 accepts three sign-ups from one address, then answers 429', async () => {
    const site = await createTestSite({ env: { SIGNUP_LIMIT_PER_IP: '3' } });
    sites.push(site);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await signup(site, `limit${i}@example.com`)).statusCode);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });

  it('SIGNUP_LIMIT_PER_IP=0 and SIGNUP_LIMIT_PER_ADDRESS=0 lift the limits: every sign-up is stored', async () => {
    const site = await createTestSite({ env: { SIGNUP_LIMIT_PER_IP: '0', SIGNUP_LIMIT_PER_ADDRESS: '0' } });
    sites.push(site);
    for (let i = 0; i < 40; i++) assert.equal((await signup(site, `many${i}@example.com`)).statusCode, 200);
    for (let i = 0; i < 8; i++) assert.equal((await signup(site, 'again@example.com')).statusCode, 200);
    const rows = await site.db.selectFrom('subscribers').select('email').execute();
    assert.equal(rows.length, 41);
  });
});
