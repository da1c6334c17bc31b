import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import {
  confirmSubscriberByNonce,
  deleteSubscriber,
  findKnownEmailKeys,
  findSubscriberByEmailKey,
  findSuppressed,
  insertConsentEvents,
  insertSubscribers,
  insertSuppression,
  listConsentEvents,
  listConsentEventsByHash,
  listSubscribersAfter,
  unsubscribeSubscriber,
} from './subscribers.repository.ts';
import { findSubscribersByEmailKeys, insertSubscribersIfAbsent } from './subscribers.mails.repository.ts';
import type { NewSubscriber, SubscriberRow } from './subscribers.table.ts';
import { emailHash } from './subscribers.tokens.ts';

const at = '2026-11-25T10:00:00.000Z';
const pending = (emailKey: string, nonce: string | null = 'nonce-1'): NewSubscriber => ({
  email: emailKey,
  email_key: emailKey,
  name: null,
  status: 'pending',
  source: 'form',
  confirm_nonce: nonce,
  confirm_sent_at: at,
  created_at: at,
});

describeEachDatabase('subscribers repository', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase(dialect);
  });
  after(() => t.drop());

  /** One new subscriber, through the sign-up's batch insert. */
  const insertOne = async (row: NewSubscriber): Promise<SubscriberRow> => {
    const inserted = (await insertSubscribersIfAbsent(t.db, [row])).get(row.email_key);
    assert.ok(inserted, `${row.email_key} is new`);
    return inserted;
  };

  it('inserts each address once: a known one is left out of the batch result and keeps its row', async () => {
    const first = await insertSubscribersIfAbsent(t.db, [pending('one@example.com'), pending('two@example.com')]);
    assert.deepEqual([...first.keys()].sort(), ['one@example.com', 'two@example.com']);
    const second = await insertSubscribersIfAbsent(t.db, [pending('one@example.com', 'other'), pending('three@example.com')]);
    assert.deepEqual([...second.keys()], ['three@example.com']);
    const known = await findSubscribersByEmailKeys(t.db, ['one@example.com', 'nobody@example.com']);
    assert.deepEqual([...known.keys()], ['one@example.com']);
    assert.equal(known.get('one@example.com')?.id, first.get('one@example.com')?.id);
    assert.equal(known.get('one@example.com')?.confirm_nonce, 'nonce-1');
  });

  it('confirms only with the live nonce, and only once', async () => {
    const row = await insertOne(pending('confirm@example.com', 'live'));
    assert.equal(await confirmSubscriberByNonce(t.db, row.id, 'stale', at), false);
    assert.equal(await confirmSubscriberByNonce(t.db, row.id, 'live', at), true);
    assert.equal(await confirmSubscriberByNonce(t.db, row.id, 'live', at), false);
    const after = await findSubscriberByEmailKey(t.db, 'confirm@example.com');
    assert.equal(after?.status, 'confirmed');
    assert.equal(after?.confirm_nonce, null);
  });

  it('unsubscribes once', async () => {
    const row = await insertOne(pending('leave@example.com'));
    assert.equal(await unsubscribeSubscriber(t.db, row.id, at), true);
    assert.equal(await unsubscribeSubscriber(t.db, row.id, at), false);
  });

  it('erasure deletes the row, detaches its consent events, and the suppression is found by hash', async () => {
    const row = await insertOne(pending('gone@example.com'));
    const hash = emailHash('gone@example.com');
    await insertConsentEvents(t.db, [{ subscriber_id: row.id, email_hash: hash, kind: 'signup', form_wording: 'I agree', created_at: at }]);
    assert.equal((await listConsentEvents(t.db, row.id)).length, 1);
    await insertSuppression(t.db, hash, 'erased', at);
    await insertSuppression(t.db, hash, 'erased', at); // idempotent
    await deleteSubscriber(t.db, row.id);
    assert.equal(await findSubscriberByEmailKey(t.db, 'gone@example.com'), undefined);
    const events = await listConsentEventsByHash(t.db, hash);
    assert.deepEqual(events.map((e) => [e.kind, e.subscriber_id]), [['signup', null]]);
    assert.deepEqual([...(await findSuppressed(t.db, [hash, emailHash('other@example.com')]))], [hash]);
  });

  it('batch-inserts import rows and pages through them in id order', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => ({ ...pending(`bulk${i}@example.com`, null), source: 'import' as const }));
    for (let i = 0; i < rows.length; i += 500) {
      const ids = await insertSubscribers(t.db, rows.slice(i, i + 500));
      assert.equal(ids.size, Math.min(500, rows.length - i));
    }
    const known = await findKnownEmailKeys(t.db, ['bulk0@example.com', 'bulk1199@example.com', 'nobody@example.com']);
    assert.deepEqual([...known].sort(), ['bulk0@example.com', 'bulk1199@example.com']);
    let afterId = 0;
    let seen = 0;
    for (;;) {
      const page = await listSubscribersAfter(t.db, afterId, 1000);
      if (page.length === 0) break;
      assert.ok(page.every((r, i) => i === 0 || r.id > (page[i - 1]?.id ?? 0)));
      seen += page.length;
      afterId = page.at(-1)?.id ?? afterId;
    }
    assert.ok(seen >= 1200);
  });
});
