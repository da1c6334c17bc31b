import type { Db } from '../../db/index.ts';
import type { SubscriberStatus } from '../subscribers/subscribers.table.ts';

/**
 * Test and benchmark fixtures: subscribers written straight into the table (the sign-up flow is tested
 * elsewhere), `count` of them with addresses `reader<n>@example.test`.
 */
export async function insertSubscribers(
  db: Db,
  count: number,
  status: SubscriberStatus = 'confirmed',
  prefix = 'reader',
): Promise<void> {
  const now = new Date().toISOString();
  for (let start = 0; start < count; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const email = `${prefix}${i}@example.test`;
      rows.push({
        email,
        email_key: email,
        name: null,
        status,
        source: 'import' as const,
        created_at: now,
        confirmed_at: status === 'confirmed' ? now : null,
      });
    }
    await db.insertInto('subscribers').values(rows).execute();
  }
}
