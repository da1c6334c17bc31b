// What other parts of Gazette may use of the search module (docs/ARCHITECTURE.md, "Modules and borders").
export { maxPage, maxQueryLength, rankingLimit, searchArticles } from './search.service.ts';
export type { SearchResult, SearchResults } from './search.service.ts';
