import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { AppError } from '../../errors.ts';
import { countActiveAdmins } from './users.repository.ts';
import { UserService } from './users.service.ts';

describeEachDatabase('the last admin', (dialect) => {
  let t: TestDatabase;
  let users: UserService;
  before(async () => {
    t = await createTestDatabase(dialect);
    users = new UserService({ db: t.db, siteUrl: 'http://gazette.test', now: () => new Date() });
  });
  after(() => t.drop());

  it('remains when two admins disable or demote each other at the same moment', async () => {
    const a = (await users.createUser({ email: 'ann@example.com', role: 'admin' })).user.id;
    const b = (await users.createUser({ email: 'bob@example.com', role: 'admin' })).user.id;
    for (let round = 0; round < 10; round++) {
      await t.db.updateTable('users').set({ role: 'admin', disabled_at: null }).execute();
      const changes =
        round % 2 === 0 ? [{ disabled: true }, { disabled: true }] : [{ role: 'editor' as const }, { disabled: true }];
      const results = await Promise.allSettled([users.updateUser(a, changes[0]!), users.updateUser(b, changes[1]!)]);
      assert.equal(await countActiveAdmins(t.db), 1, `round ${round}: ${results.map((r) => r.status).join(', ')}`);
      const refused = results
        .filter((r) => r.status === 'rejected')
        .map((r) => (r.reason instanceof AppError ? r.reason.code : String(r.reason)));
      assert.deepEqual(refused, ['user.last_admin']);
    }
  });
});
