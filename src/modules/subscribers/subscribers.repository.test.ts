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
import { keyLegacyEmailHashes } from './subscribers.service.ts';
import { emailHash as keyedEmailHash, legacyEmailHash } from './subscribers.tokens.ts';

const emailHash = (emailKey: string) => keyedEmailHash('r'.repeat(43), emailKey);

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
    const second = await insertSubscribersIfAbsent(t.db, [
      pending('one@example.com', 'other'),
      pending('three@example.com'),
    ]);
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
    await insertConsentEvents(t.db, [
      { subscriber_id: row.id, email_hash: hash, kind: 'signup', form_wording: 'I agree', created_at: at },
    ]);
    assert.equal((await listConsentEvents(t.db, row.id)).length, 1);
    await insertSuppression(t.db, hash, 'erased', at);
    await insertSuppression(t.db, hash, 'erased', at); // idempotent
    await deleteSubscriber(t.db, row.id);
    assert.equal(await findSubscriberByEmailKey(t.db, 'gone@example.com'), undefined);
    const events = await listConsentEventsByHash(t.db, hash);
    assert.deepEqual(
      events.map((e) => [e.kind, e.subscriber_id]),
      [['signup', null]],
    );
    assert.deepEqual([...(await findSuppressed(t.db, [hash, emailHash('other@example.com')]))], [hash]);
  });

  it('keys the unkeyed hashes older versions stored, once, in batches, however many processes do it', async () => {
    const secret = 'r'.repeat(43);
    const addresses = Array.from({ length: 1203 }, (_, i) => `old${i}@example.com`);
    // As an older version left them: bare SHA-256 in suppressions and in consent events (two per address).
    await insertSuppression(t.db, legacyEmailHash(addresses[0]!), 'erased', at);
    await insertSuppression(t.db, legacyEmailHash(addresses[1]!), 'bounced', at);
    // A process that already keys its hashes suppressed this address again before the rewrite reached it.
    await insertSuppression(t.db, legacyEmailHash(addresses[2]!), 'bounced', at);
    await insertSuppression(t.db, emailHash(addresses[2]!), 'erased', at);
    for (const kind of ['signup', 'confirmed'] as const) {
      await insertConsentEvents(
        t.db,
        addresses.map((a) => ({ subscriber_id: null, email_hash: legacyEmailHash(a), kind, created_at: at })),
      );
    }
    const before = await t.db.selectFrom('consent_events').select('id').where('email_hash', 'like', 'k1:%').execute();

    const runs = await Promise.all([keyLegacyEmailHashes(t.db, secret), keyLegacyEmailHashes(t.db, secret)]);
    assert.ok(runs[0] + runs[1] >= 3 + addresses.length, String(runs));
    assert.equal(await keyLegacyEmailHashes(t.db, secret), 0, 'nothing left to key');

    const suppressions = await t.db
      .selectFrom('suppressions')
      .select(['email_hash', 'reason'])
      .where('email_hash', 'in', addresses.slice(0, 3).map(emailHash))
      .orderBy('email_hash')
      .execute();
    assert.deepEqual(
      suppressions.map((r) => [r.email_hash, r.reason]).sort(),
      [
        [emailHash(addresses[0]!), 'erased'],
        [emailHash(addresses[1]!), 'bounced'],
        [emailHash(addresses[2]!), 'erased'],
      ].sort(),
    );
    assert.deepEqual(
      await t.db.selectFrom('suppressions').select('email_hash').where('email_hash', 'not like', 'k1:%').execute(),
      [],
    );
    assert.deepEqual([...(await findSuppressed(t.db, [emailHash(addresses[1]!)]))], [emailHash(addresses[1]!)]);
    const events = await listConsentEventsByHash(t.db, emailHash(addresses[1202]!));
    assert.deepEqual(
      events.map((e) => e.kind),
      ['signup', 'confirmed'],
    );
    const unkeyed = await t.db
      .selectFrom('consent_events')
      .select('id')
      .where('email_hash', 'not like', 'k1:%')
      .execute();
    assert.deepEqual(unkeyed, []);
    const keyedNow = await t.db.selectFrom('consent_events').select('id').where('email_hash', 'like', 'k1:%').execute();
    assert.equal(keyedNow.length - before.length, 2 * addresses.length);
  });

  it('batch-inserts import rows and pages through them in id order', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => ({
      ...pending(`bulk${i}@example.com`, null),
      source: 'import' as const,
    }));
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
