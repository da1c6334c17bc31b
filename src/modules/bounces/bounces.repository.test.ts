import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { countSoftBounces, insertBounceEvent, listQuarantine, quarantineMessage } from './bounces.repository.ts';

describeEachDatabase('bounce events and quarantine', (dialect) => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase(dialect);
  });
  after(() => t.drop());

  const event = (
    deliveryId: number,
    kind: 'hard' | 'soft' | 'complaint',
    createdAt: string,
    subscriberId: number | null = 7,
  ) => ({
    delivery_id: deliveryId,
    issue_id: 1,
    subscriber_id: subscriberId,
    kind,
    status: kind === 'soft' ? '4.2.2' : '5.1.1',
    feedback_type: null,
    detail: 'mailbox full',
    created_at: createdAt,
  });

  it('records one event per delivery and kind, so a bounce read twice (even at once) counts once', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => insertBounceEvent(t.db, event(10, 'soft', '2026-12-01T00:00:00.000Z'))),
    );
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(
      await insertBounceEvent(t.db, event(10, 'hard', '2026-12-01T00:00:00.000Z')),
      true,
      'another kind for the same delivery is its own event',
    );
  });

  it('counts soft bounces of one subscriber within the window only', async () => {
    await insertBounceEvent(t.db, event(20, 'soft', '2026-10-01T00:00:00.000Z', 8));
    await insertBounceEvent(t.db, event(21, 'soft', '2026-11-20T00:00:00.000Z', 8));
    await insertBounceEvent(t.db, event(22, 'soft', '2026-12-01T00:00:00.000Z', 8));
    await insertBounceEvent(t.db, event(23, 'hard', '2026-12-01T00:00:00.000Z', 8));
    await insertBounceEvent(t.db, event(24, 'soft', '2026-12-01T00:00:00.000Z', 9));
    assert.equal(await countSoftBounces(t.db, 8, '2026-11-04T00:00:00.000Z'), 2);
  });

  it('keeps a quarantined message once per content, newest first in the list', async () => {
    const row = (hash: string) => ({
      message_hash: hash,
      reason: 'no_tag' as const,
      class: 'hard',
      summary: '5.1.1 user unknown',
      subject: 'Undeliverable',
      sender: 'MAILER-DAEMON@example.org',
      message: 'x'.repeat(1000),
      received_at: '2026-12-04T10:00:00.000Z',
    });
    const first = await quarantineMessage(t.db, row('a'.repeat(64)));
    const again = await quarantineMessage(t.db, row('a'.repeat(64)));
    const other = await quarantineMessage(t.db, row('b'.repeat(64)));
    assert.equal(first.repeated, false);
    assert.deepEqual(again, { id: first.id, repeated: true });
    assert.deepEqual(
      (await listQuarantine(t.db, 10)).map((r) => r.id),
      [other.id, first.id],
    );
  });
});
