import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/index.ts';

/** The `settings` key under which a generated secret is kept (a JSON string, like every setting). */
const secretSettingKey = 'secret_key';

/**
 * The key that signs links (confirmation, unsubscribe, self-service). SECRET_KEY wins when set; otherwise
 * 32 random bytes are generated once and stored in `settings`. The insert is insert-if-absent and the value
 * is read back afterwards, so several processes starting together on one database all agree on one key.
 * Never log the result.
 */
export async function getOrCreateSecretKey(db: Db, configured: string | null): Promise<string> {
  if (configured) return configured;
  const existing = await readStoredSecret(db);
  if (existing) return existing;
  const candidate = randomBytes(32).toString('base64url');
  await db
    .insertInto('settings')
    .values({ key: secretSettingKey, value: JSON.stringify(candidate) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const stored = await readStoredSecret(db);
  if (!stored) throw new Error('the secret key could not be stored');
  return stored;
}

async function readStoredSecret(db: Db): Promise<string | null> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', secretSettingKey).executeTakeFirst();
  if (!row) return null;
  try {
    const value: unknown = JSON.parse(row.value);
    return typeof value === 'string' && value.length >= 32 ? value : null;
  } catch {
    return null;
  }
}
