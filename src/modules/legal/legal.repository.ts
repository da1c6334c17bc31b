import type { Db } from '../../db/index.ts';
import type { LegalDocumentRow, LegalKind } from './legal.table.ts';

/** The newest published version of a legal document. */
export async function findCurrentLegalDocument(db: Db, kind: LegalKind): Promise<LegalDocumentRow | undefined> {
  return db
    .selectFrom('legal_documents')
    .selectAll()
    .where('kind', '=', kind)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function findLegalDocumentVersion(
  db: Db,
  kind: LegalKind,
  version: number,
): Promise<LegalDocumentRow | undefined> {
  return db
    .selectFrom('legal_documents')
    .selectAll()
    .where('kind', '=', kind)
    .where('version', '=', version)
    .executeTakeFirst();
}

export async function insertLegalDocument(db: Db, doc: Omit<LegalDocumentRow, 'id'>): Promise<LegalDocumentRow> {
  return db.insertInto('legal_documents').values(doc).returningAll().executeTakeFirstOrThrow();
}

/** Every published version of a document, newest first, without the text (the newsroom's history). */
export async function listLegalVersions(db: Db, kind: LegalKind): Promise<Omit<LegalDocumentRow, 'body_markdown'>[]> {
  return db
    .selectFrom('legal_documents')
    .select(['id', 'kind', 'version', 'title', 'content_hash', 'published_at'])
    .where('kind', '=', kind)
    .orderBy('version', 'desc')
    .execute();
}
