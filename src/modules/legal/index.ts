// What other parts of Gazette may use of the legal module (docs/ARCHITECTURE.md, "Modules and borders").
export { legalRoutes } from './legal.routes.ts';
export { getLegalDocument, publishLegalDocument } from './legal.service.ts';
export type { LegalDocumentRow, LegalKind } from './legal.table.ts';
