import type { Db } from '../../db/index.ts';
import type { IntegrationRow } from './integrations.table.ts';

export async function insertIntegration(db: Db, row: Omit<IntegrationRow, 'id' | 'revoked_at'>): Promise<number> {
  const inserted = await db.insertInto('integrations').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(inserted.id);
}

export async function listIntegrations(db: Db): Promise<IntegrationRow[]> {
  return db.selectFrom('integrations').selectAll().orderBy('id').execute();
}

/** The live integration whose Content API key has this SHA-256 (a unique index lookup). */
export async function findLiveByContentKeyHash(
  db: Db,
  hash: string,
): Promise<Pick<IntegrationRow, 'id' | 'name'> | undefined> {
  return db
    .selectFrom('integrations')
    .select(['id', 'name'])
    .where('content_key_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** The live integration whose Admin API key has this id (a JWT's `kid`). */
export async function findLiveByAdminKeyId(db: Db, keyId: string): Promise<IntegrationRow | undefined> {
  return db
    .selectFrom('integrations')
    .selectAll()
    .where('admin_key_id', '=', keyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function revokeIntegration(db: Db, id: number, at: string): Promise<boolean> {
  const result = await db
    .updateTable('integrations')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
