import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { deleteSubscriber } from './subscribers.repository.ts';
import {
  claimSubscriberMails,
  countSubscriberMailsByStatus,
  findDueSubscriberMails,
  insertSubscriberMails,
  insertSubscribersIfAbsent,
  listSubscriberMailClaimants,
  markSubscriberMailRetry,
  markSubscriberMailsSent,
  releaseStaleSubscriberMails,
} from './subscribers.mails.repository.ts';

const t0 = '2026-12-02T10:00:00.000Z';
const later = '2026-12-02T10:05:00.000Z';

describeEachDatabase('subscriber mail queue', (dialect) => {
  let t: TestDatabase;
  let ids: number[] = [];
  let subscriberIds: number[] = [];

  before(async () => {
    t = await createTestDatabase(dialect);
    const rows = await insertSubscribersIfAbsent(
      t.db,
      ['a', 'b', 'c', 'd'].map((n) => ({
        email: `${n}@example.com`,
        email_key: `${n}@example.com`,
        name: null,
        status: 'pending',
        source: 'form',
        confirm_nonce: `nonce-${n}`,
        confirm_sent_at: t0,
        created_at: t0,
      })),
    );
    subscriberIds = [...rows.values()].map((r) => r.id).sort((x, y) => x - y);
    const mails = await insertSubscriberMails(
      t.db,
      subscriberIds.map((id) => ({
        subscriber_id: id,
        kind: 'confirm',
        confirm_nonce: 'n',
        status: 'queued',
        next_attempt_at: t0,
        created_at: t0,
      })),
    );
    ids = subscriberIds.map((id) => mails.get(id) ?? 0);
    assert.ok(
      ids.every((id) => id > 0),
      'an id for every subscriber',
    );
  });
  after(() => t.drop());

  it('claims each mail for one sender only, and finds only what is due', async () => {
    assert.deepEqual(await findDueSubscriberMails(t.db, t0, 10), ids);
    const mine = await claimSubscriberMails(t.db, ids.slice(0, 3), 'host:1:a', t0);
    assert.deepEqual(
      mine.map((m) => m.id),
      ids.slice(0, 3),
    );
    const theirs = await claimSubscriberMails(t.db, ids, 'host:2:b', t0);
    assert.deepEqual(
      theirs.map((m) => m.id),
      ids.slice(3),
      'the taken ones are left out',
    );
    assert.deepEqual(await findDueSubscriberMails(t.db, later, 10), [], 'claimed mails are not due');
    assert.deepEqual((await listSubscriberMailClaimants(t.db)).sort(), ['host:1:a', 'host:2:b']);
  });

  it('records sends with the Message-ID each was sent with, and retries become due at their time', async () => {
    await markSubscriberMailsSent(t.db, new Map([[ids[0]!, '<signup.1.Zm9v@news.example>']]), later);
    const sent = await t.db
      .selectFrom('subscriber_mails')
      .select(['status', 'message_id', 'attempts'])
      .where('id', '=', ids[0]!)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      { ...sent, attempts: Number(sent.attempts) },
      { status: 'sent', message_id: '<signup.1.Zm9v@news.example>', attempts: 1 },
    );
    await markSubscriberMailRetry(t.db, ids[1]!, 'host:1:a', '451 try later', later);
    await markSubscriberMailRetry(t.db, ids[2]!, 'host:9:z', '451 not my claim', later); // not its claim: nothing changes
    assert.deepEqual(await findDueSubscriberMails(t.db, t0, 10), [], 'not due before its time');
    assert.deepEqual(await findDueSubscriberMails(t.db, later, 10), [ids[1]]);
  });

  it('gives back the claims of a dead sender at once, and stale claims after the lease', async () => {
    assert.equal(await releaseStaleSubscriberMails(t.db, t0, ['host:2:b']), 1);
    assert.deepEqual(await findDueSubscriberMails(t.db, later, 10), [ids[3], ids[1]], 'oldest due first');
    assert.equal(await releaseStaleSubscriberMails(t.db, t0, []), 0, 'host:1:a claimed at t0, not before it');
    assert.equal(await releaseStaleSubscriberMails(t.db, later, []), 1);
    const counts = await countSubscriberMailsByStatus(t.db);
    assert.deepEqual(counts, { queued: 3, sending: 0, sent: 1, failed: 0, skipped: 0 });
  });

  it('erasing a subscriber takes their mails with them', async () => {
    await deleteSubscriber(t.db, subscriberIds[3]!);
    assert.deepEqual(await findDueSubscriberMails(t.db, later, 10), [ids[2], ids[1]]);
  });
});
