import { createHash } from 'node:crypto';
import { type Db, inTransaction } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { findCurrentLegalDocument, findLegalDocumentVersion, insertLegalDocument } from './legal.repository.ts';
import type { LegalDocumentRow, LegalKind } from './legal.table.ts';

/** The hash a consent record cites: it changes whenever the title or the text a reader sees changes. */
export function legalContentHash(title: string, bodyMarkdown: string): string {
  return createHash('sha256').update(title).update('\n\n').update(bodyMarkdown).digest('hex');
}

/**
 * Publishes a new version of a legal document. Old versions are never rewritten, so every consent
 * record keeps pointing at the exact text that reader agreed to.
 */
export async function publishLegalDocument(
  db: Db,
  kind: LegalKind,
  title: string,
  bodyMarkdown: string,
  now = new Date(),
): Promise<LegalDocumentRow> {
  return inTransaction(db, async (trx) => {
    const current = await findCurrentLegalDocument(trx, kind);
    return insertLegalDocument(trx, {
      kind,
      version: (current?.version ?? 0) + 1,
      title,
      body_markdown: bodyMarkdown,
      content_hash: legalContentHash(title, bodyMarkdown),
      published_at: now.toISOString(),
    });
  });
}

/** The current version, or a given one (`/terms?version=2`, which consent records link to). */
export async function getLegalDocument(db: Db, kind: LegalKind, version?: number): Promise<LegalDocumentRow> {
  const doc =
    version === undefined
      ? await findCurrentLegalDocument(db, kind)
      : await findLegalDocumentVersion(db, kind, version);
  if (!doc) throw new AppError('legal.not_found');
  return doc;
}
