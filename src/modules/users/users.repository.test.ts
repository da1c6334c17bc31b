import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import * as repo from './users.repository.ts';

describeEachDatabase('users repository', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase(dialect);
  });
  after(() => t.drop());

  const at = (minutes: number) => new Date(Date.UTC(2026, 10, 25, 12, minutes)).toISOString();

  it('stores users with a unique lower-cased key', async () => {
    const user = await repo.insertUser(t.db, {
      email: 'Ann@example.com',
      email_key: 'ann@example.com',
      role: 'editor',
      password_hash: null,
      created_at: at(0),
      disabled_at: null,
    });
    assert.equal(user.name, '');
    assert.equal((await repo.findUserByEmailKey(t.db, 'ann@example.com'))?.id, user.id);
    await assert.rejects(
      repo.insertUser(t.db, {
        email: 'ANN@example.com',
        email_key: 'ann@example.com',
        role: 'admin',
        password_hash: null,
        created_at: at(0),
        disabled_at: null,
      }),
    );
    await repo.setPasswordHash(t.db, user.id, 'scrypt$x');
    assert.equal((await repo.findUserById(t.db, user.id))?.password_hash, 'scrypt$x');
    assert.equal((await repo.listUsers(t.db)).length, 1);
  });

  it('finds only live sessions of enabled users, and ends them one by one or all at once', async () => {
    const user = await repo.insertUser(t.db, {
      email: 'bo@example.com',
      email_key: 'bo@example.com',
      role: 'author',
      password_hash: null,
      created_at: at(0),
      disabled_at: null,
    });
    const session = (id: string, expires: string) => ({
      id,
      user_id: user.id,
      created_at: at(0),
      last_seen_at: at(0),
      expires_at: expires,
      user_agent: 'test',
      ip: '127.0.0.1',
    });
    await repo.insertSession(t.db, session('a'.repeat(64), at(30)));
    await repo.insertSession(t.db, session('b'.repeat(64), at(30)));
    await repo.insertSession(t.db, session('c'.repeat(64), at(5)));
    const found = await repo.findLiveSession(t.db, 'a'.repeat(64), at(10));
    assert.equal(found?.user.email, 'bo@example.com');
    assert.equal(found?.session.user_agent, 'test');
    assert.equal(await repo.findLiveSession(t.db, 'c'.repeat(64), at(10)), undefined);
    await repo.touchSession(t.db, 'a'.repeat(64), at(10), at(40));
    assert.equal((await repo.findLiveSession(t.db, 'a'.repeat(64), at(35)))?.session.last_seen_at, at(10));
    await repo.deleteSession(t.db, 'a'.repeat(64));
    assert.equal(await repo.findLiveSession(t.db, 'a'.repeat(64), at(10)), undefined);
    await t.db
      .updateTable('users')
      .set({ disabled_at: at(1) })
      .where('id', '=', user.id)
      .execute();
    assert.equal(await repo.findLiveSession(t.db, 'b'.repeat(64), at(10)), undefined);
    assert.equal(await repo.deleteSessionsOfUser(t.db, user.id), 2);
  });

  it('consumes a sign-in link once, and never after it expires', async () => {
    const user = await repo.insertUser(t.db, {
      email: 'cy@example.com',
      email_key: 'cy@example.com',
      role: 'admin',
      password_hash: null,
      created_at: at(0),
      disabled_at: null,
    });
    await repo.insertSignInLink(t.db, {
      token_hash: '1'.repeat(64),
      user_id: user.id,
      created_at: at(0),
      expires_at: at(30),
    });
    await repo.insertSignInLink(t.db, {
      token_hash: '2'.repeat(64),
      user_id: user.id,
      created_at: at(0),
      expires_at: at(5),
    });
    assert.equal(await repo.consumeSignInLink(t.db, '1'.repeat(64), at(10)), true);
    assert.equal(await repo.consumeSignInLink(t.db, '1'.repeat(64), at(11)), false);
    assert.equal((await repo.findSignInLink(t.db, '1'.repeat(64)))?.used_at, at(10));
    assert.equal(await repo.consumeSignInLink(t.db, '2'.repeat(64), at(10)), false);
  });
});
