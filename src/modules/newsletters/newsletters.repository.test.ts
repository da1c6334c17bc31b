import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { insertSubscribers } from './newsletters.fixtures.ts';
import {
  claimDeliveries,
  countDeliveriesByStatus,
  finishIssues,
  insertDeliveriesForConfirmed,
  insertIssue,
  markRetry,
  markSent,
  markSentMany,
  releaseStaleClaims,
  setIssueQueued,
} from './newsletters.repository.ts';

describeEachDatabase('newsletters repository', (dialect) => {
  let t: TestDatabase;
  let issueId: number;
  const t0 = '2026-11-25T12:00:00.000Z';
  before(async () => {
    t = await createTestDatabase(dialect);
    await insertSubscribers(t.db, 300, 'confirmed');
    await insertSubscribers(t.db, 5, 'pending', 'pending');
    await insertSubscribers(t.db, 5, 'unsubscribed', 'gone');
    const issue = await insertIssue(t.db, { subject: 'S', article_ids: '[]', html: 'h', text: 't', status: 'draft', created_at: t0, queued_at: null, finished_at: null });
    issueId = issue.id;
  });
  after(() => t.drop());

  it('queues one delivery per confirmed subscriber, once', async () => {
    assert.equal(await insertDeliveriesForConfirmed(t.db, issueId, t0), 300);
    assert.equal(await insertDeliveriesForConfirmed(t.db, issueId, t0), 0);
    await setIssueQueued(t.db, issueId, 300, t0);
    const rows = await t.db.selectFrom('deliveries').select('email').execute();
    assert.equal(rows.length, 300);
    assert.ok(rows.every((r) => r.email.startsWith('reader')));
  });

  it('claims disjoint batches atomically, even when claims race', async () => {
    const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => claimDeliveries(t.db, `w${i}`, t0, 40)));
    const ids = claims.flat().map((d) => d.id);
    assert.equal(ids.length, 240);
    assert.equal(new Set(ids).size, 240, 'no delivery claimed twice');
    const counts = await countDeliveriesByStatus(t.db, issueId);
    assert.equal(counts.sending, 240);
    assert.equal(counts.queued, 60);
    // Release everything for the next tests.
    assert.equal(await releaseStaleClaims(t.db, '9999', []), 240);
  });

  it('honours next_attempt_at, records outcomes guarded by the claim, and sweeps stale claims', async () => {
    const [first] = await claimDeliveries(t.db, 'a', t0, 1);
    assert.ok(first);
    await markRetry(t.db, first.id, 'someone-else', 'x', '2026-11-25T13:00:00.000Z'); // not the holder: no effect
    assert.equal((await t.db.selectFrom('deliveries').select('status').where('id', '=', first.id).executeTakeFirstOrThrow()).status, 'sending');
    await markRetry(t.db, first.id, 'a', '451 later', '2026-11-25T13:00:00.000Z');
    const later = await claimDeliveries(t.db, 'b', t0, 1000);
    assert.equal(later.length, 299);
    assert.ok(!later.some((d) => d.id === first.id), 'not due yet');
    const [retried] = await claimDeliveries(t.db, 'c', '2026-11-25T13:00:00.000Z', 10);
    assert.equal(retried?.id, first.id);
    assert.equal(retried.attempts, 1);
    // Worker b died: its claims go back after the lease, or at once when it is known dead.
    assert.equal(await releaseStaleClaims(t.db, t0, []), 0);
    assert.equal(await releaseStaleClaims(t.db, t0, ['b']), 299);
    const rest = await claimDeliveries(t.db, 'd', t0, 1000);
    await markSentMany(t.db, rest.map((d) => d.id), 'news.example.test', t0); // the worker's group commit
    const sample = await t.db.selectFrom('deliveries').select(['id', 'issue_id', 'message_id', 'status', 'attempts']).where('id', '=', rest[0]!.id).executeTakeFirstOrThrow();
    assert.equal(sample.message_id, `<gazette.${sample.issue_id}.${sample.id}@news.example.test>`);
    assert.equal(sample.status, 'sent');
    assert.equal(sample.attempts, 1);
    assert.deepEqual(await finishIssues(t.db, t0), [], 'one delivery is still sending');
    await markSent(t.db, first.id, '<first@x>', t0);
    assert.deepEqual(await finishIssues(t.db, t0), [issueId]);
    const counts = await countDeliveriesByStatus(t.db, issueId);
    assert.equal(counts.sent, 300);
  });
});
