import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type RawBuilder, sql } from 'kysely';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../../../test/helpers/databases.ts';
import { insertSubscribers } from './newsletters.fixtures.ts';
import {
  claimDeliveries,
  countDeliveries,
  countDeliveriesByIssue,
  countDeliveriesByStatus,
  countSentPerPeriod,
  dueDeliveryIds,
  finishIssues,
  insertDeliveriesForConfirmed,
  insertIssue,
  listClaimants,
  markFailed,
  markRetry,
  markSent,
  markSentMany,
  markSkipped,
  releaseStaleClaims,
  renewClaims,
  sentTimeSpan,
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
    const issue = await insertIssue(t.db, {
      subject: 'S',
      article_ids: '[]',
      html: 'h',
      text: 't',
      status: 'draft',
      created_at: t0,
      queued_at: null,
      finished_at: null,
    });
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
    assert.equal(
      (await t.db.selectFrom('deliveries').select('status').where('id', '=', first.id).executeTakeFirstOrThrow())
        .status,
      'sending',
    );
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
    // The worker's group commit, each row with the Message-ID it was sent with.
    await markSentMany(
      t.db,
      new Map(rest.map((d) => [d.id, `<gazette.${d.issue_id}.${d.id}.r${d.id % 7}@news.example.test>`])),
      t0,
    );
    const sample = await t.db
      .selectFrom('deliveries')
      .select(['id', 'issue_id', 'message_id', 'status', 'attempts'])
      .where('id', '=', rest[0]!.id)
      .executeTakeFirstOrThrow();
    assert.equal(sample.message_id, `<gazette.${sample.issue_id}.${sample.id}.r${sample.id % 7}@news.example.test>`);
    const recorded = await t.db
      .selectFrom('deliveries')
      .select(['id', 'message_id'])
      .where(
        'id',
        'in',
        rest.map((d) => d.id),
      )
      .execute();
    assert.ok(
      recorded.every((r) => r.message_id?.endsWith(`.${r.id}.r${r.id % 7}@news.example.test>`)),
      'every row its own',
    );
    assert.equal(sample.status, 'sent');
    assert.equal(sample.attempts, 1);
    assert.deepEqual(await finishIssues(t.db, t0), [], 'one delivery is still sending');
    await markSent(t.db, first.id, '<first@x>', t0);
    assert.deepEqual(await finishIssues(t.db, t0), [issueId]);
    const counts = await countDeliveriesByStatus(t.db, issueId);
    assert.equal(counts.sent, 300);
  });

  it('renews the claims in hand, passing over (on PostgreSQL) a row that a record is writing instead of waiting for it', async () => {
    const issue = await insertIssue(t.db, {
      subject: 'S3',
      article_ids: '[]',
      html: 'h',
      text: 't',
      status: 'draft',
      created_at: t0,
      queued_at: null,
      finished_at: null,
    });
    await insertDeliveriesForConfirmed(t.db, issue.id, t0);
    const ids = (await claimDeliveries(t.db, 'renewer', t0, 3)).map((d) => d.id);
    const later = '2026-11-25T12:10:00.000Z';
    const claimedAt = async () =>
      (
        await t.db.selectFrom('deliveries').select(['id', 'claimed_at']).where('id', 'in', ids).orderBy('id').execute()
      ).map((r) => r.claimed_at);
    if (dialect === 'postgres') {
      // A record of the first row in progress on another connection (its row lock held) while the renewal runs.
      await t.db.transaction().execute(async (trx) => {
        await sql`SELECT id FROM deliveries WHERE id = ${ids[0]} FOR UPDATE`.execute(trx);
        let timer: NodeJS.Timeout | undefined;
        const waited = new Promise<never>(
          (_, reject) => (timer = setTimeout(() => reject(new Error('the renewal waited for the locked row')), 10_000)),
        );
        await Promise.race([renewClaims(t.db, 'renewer', later, ids), waited]).finally(() => clearTimeout(timer));
      });
      assert.deepEqual(await claimedAt(), [t0, later, later]);
    } else {
      await renewClaims(t.db, 'renewer', later, ids);
      assert.deepEqual(await claimedAt(), [later, later, later]);
    }
    await releaseStaleClaims(t.db, '9999', []);
    await t.db.deleteFrom('deliveries').where('issue_id', '=', issue.id).execute();
  });

  it('counts every state from the partial indexes, per issue, and keeps them in step through each change', async () => {
    const second = await insertIssue(t.db, {
      subject: 'S2',
      article_ids: '[]',
      html: 'h',
      text: 't',
      status: 'draft',
      created_at: t0,
      queued_at: null,
      finished_at: null,
    });
    assert.equal(await insertDeliveriesForConfirmed(t.db, second.id, t0), 300);
    const claimed = await claimDeliveries(t.db, 'w', t0, 10);
    assert.deepEqual(await listClaimants(t.db), ['w']);
    await renewClaims(t.db, 'w', '2026-11-25T12:05:00.000Z');
    assert.equal(await releaseStaleClaims(t.db, '2026-11-25T12:01:00.000Z', []), 0, 'renewed claims are not stale');
    const [a, b, c, d] = claimed.map((x) => x.id);
    await markSentMany(
      t.db,
      new Map([
        [a!, '<a@x>'],
        [b!, '<b@x>'],
      ]),
      '2026-11-25T12:06:00.000Z',
    );
    await markFailed(t.db, c!, 'w', '550 no');
    await markSkipped(t.db, [d!], 'no longer subscribed');
    assert.deepEqual(await countDeliveriesByStatus(t.db, second.id), {
      queued: 290,
      sending: 6,
      sent: 2,
      failed: 1,
      skipped: 1,
    });
    assert.equal(await countDeliveries(t.db, second.id), 299, 'skipped is not a recipient');
    const both = await countDeliveriesByIssue(t.db, [issueId, second.id, 999_999]);
    assert.deepEqual(both.get(issueId), { queued: 0, sending: 0, sent: 300, failed: 0, skipped: 0 });
    assert.deepEqual(both.get(second.id), { queued: 290, sending: 6, sent: 2, failed: 1, skipped: 1 });
    assert.deepEqual(both.get(999_999), { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 });
    assert.deepEqual(await countSentPerPeriod(t.db, second.id, 'minute'), [{ period: '2026-11-25T12:06', count: 2 }]);
    assert.deepEqual(await sentTimeSpan(t.db, second.id), {
      first: '2026-11-25T12:06:00.000Z',
      last: '2026-11-25T12:06:00.000Z',
    });
    assert.equal(await releaseStaleClaims(t.db, '9999', []), 6);
    assert.deepEqual(await listClaimants(t.db), []);
  });

  it('claims, sweeps and counts through the partial indexes, not by reading the table', async () => {
    // Each of these runs thousands of times per send or on every progress poll; a plan that reads the
    // whole table (or every sent row ever) would go unnoticed at test sizes. SQLite's planner matches a
    // partial index only against literal statuses, which is what this guards.
    const plans: [RawBuilder<unknown>, string][] = [
      [dueDeliveryIds(t.db, '9999', 200), 'deliveries_due'],
      [sql.raw(`SELECT claimed_by FROM deliveries WHERE status = 'sending' AND claimed_by = 'w'`), 'deliveries_open'],
      [
        sql.raw(`SELECT 1 FROM deliveries WHERE issue_id = ${issueId} AND (status = 'queued' OR status = 'sending')`),
        'deliveries_open',
      ],
      [
        sql.raw(`SELECT count(*) FROM deliveries WHERE issue_id = ${issueId} AND status = 'sent'`),
        'deliveries_issue_sent',
      ],
      [
        sql.raw(
          `SELECT count(*) FROM deliveries WHERE issue_id = ${issueId} AND (status = 'failed' OR status = 'skipped')`,
        ),
        'deliveries_issue_closed',
      ],
    ];
    for (const [query, index] of plans) {
      const text = query.compile(t.db).sql;
      if (dialect === 'sqlite') {
        const rows = await sql<{ detail: string }>`EXPLAIN QUERY PLAN ${query}`.execute(t.db);
        assert.match(
          rows.rows.map((r) => r.detail).join('; '),
          new RegExp(`USING (COVERING )?INDEX ${index}\\b`),
          text,
        );
      } else {
        // PostgreSQL may rightly scan a tiny table; with sequential scans off it must still find the index.
        const plan = await t.db.transaction().execute(async (trx) => {
          await sql`SET LOCAL enable_seqscan = off`.execute(trx);
          return (await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${query}`.execute(trx)).rows
            .map((r) => r['QUERY PLAN'])
            .join('\n');
        });
        assert.match(plan, new RegExp(`(using|Bitmap Index Scan on) ${index}\\b`), `${text}\n${plan}`);
      }
    }
  });
});
