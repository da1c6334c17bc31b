import type { Generated, Selectable } from 'kysely';

export type LegalKind = 'terms' | 'privacy';

/** Every published version is kept: a consent record cites the exact version and hash a reader saw. */
export interface LegalDocumentsTable {
  id: Generated<number>;
  kind: LegalKind;
  version: number;
  title: string;
  body_markdown: string;
  content_hash: string;
  published_at: string;
}

export interface LegalTables {
  legal_documents: LegalDocumentsTable;
}

export type LegalDocumentRow = Selectable<LegalDocumentsTable>;
