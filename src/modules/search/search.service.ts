import type { Db } from '../../db/index.ts';
import { escapeHtml } from '../../ui/html.ts';
import { type ArticleView, hydrateArticles } from '../articles/index.ts';
import { findSearchMatches, searchPublishedArticles } from './search.repository.ts';

/**
 * Longest query we read, in characters. Longer input is cut here rather than refused: a pasted paragraph
 * still finds something, and no article needs more than a sentence to be found.
 */
export const maxQueryLength = 200;
/** More terms add nothing to precision and only cost time (every term is an AND). */
export const maxTerms = 12;
export const resultsPerPage = 10;
/**
 * Above this many matches, results are listed newest first instead of ranked, and `total` is
 * `rankingLimit + 1` ("more than 1,000"). Ranking and counting cost time for every match: little on SQLite
 * (about 2 µs each), but PostgreSQL reads each match's search vector from TOAST and rechecks it (prefix
 * queries), some 40 µs each, so a broad word over 100,000 articles took half a second. 1,000 is also all
 * that the 100 pages of 10 offer; and among that many matches a news reader wants the recent ones.
 */
export const rankingLimit = 1000;
/** Deeper pages are not offered: nobody reads result 1,000, and a large OFFSET costs every match. */
export const maxPage = 100;

// Control characters never survive normalisation, so these cannot come from the reader's query or be
// confused with anything the page shows; the page escapes the snippet and only then turns them into <mark>.
const markStart = '\u0002';
const markEnd = '\u0003';

/** Words that are operators in FTS5 or tsquery syntax; alone they are no search at all. */
const operatorWords = new Set(['AND', 'OR', 'NOT', 'NEAR']);

export interface NormalisedQuery {
  /** What the reader typed, trimmed, whitespace collapsed and cut to `maxQueryLength`: shown back on the page. */
  text: string;
  /** The search terms: runs of letters and digits, so no quote, star, bracket or operator reaches the database. */
  terms: string[];
}

/** Reduces whatever the reader typed to plain terms; punctuation and operators alone leave no terms. */
export function normaliseQuery(input: string): NormalisedQuery {
  const text = input
    .normalize('NFKC')
    .replace(/[\p{Cc}\p{Cf}\p{Cs}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, maxQueryLength)
    .trim();
  const words = text.match(/[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu) ?? [];
  const terms = words.filter((word) => !operatorWords.has(word)).map((word) => word.toLowerCase());
  return { text, terms: [...new Set(terms)].slice(0, maxTerms) };
}

export interface SearchResult {
  article: ArticleView;
  /** Escaped text around the best match, with `<mark>` around each matched word. Safe to insert as HTML. */
  snippetHtml: string;
  rank: number;
}

export interface SearchResults {
  query: string;
  /** Matching published articles; when `order` is `newest`, a floor: `rankingLimit + 1` means "more than the limit". */
  total: number;
  page: number;
  pageCount: number;
  /** `rank` (best first) or, above `rankingLimit` matches, `newest` (most recent first). */
  order: 'rank' | 'newest';
  results: SearchResult[];
}

/** Published articles matching every word of `input` (each as a prefix), best first. Never throws on odd input. */
export async function searchArticles(db: Db, input: string, page = 1): Promise<SearchResults> {
  const { text, terms } = normaliseQuery(input);
  const safePage = Math.min(Math.max(1, Math.trunc(page) || 1), maxPage);
  const empty = { query: text, total: 0, page: safePage, pageCount: 1, order: 'rank' as const, results: [] };
  if (terms.length === 0) return empty;
  const query = { terms, markStart, markEnd };
  // Counted only as far as one past the ranking limit: beyond it the exact figure is not worth its cost.
  const matches = await findSearchMatches(db, query, rankingLimit + 1);
  const total = matches.count;
  const pageCount = Math.min(maxPage, Math.max(1, Math.ceil(total / resultsPerPage)));
  if (total === 0 || safePage > pageCount) return { ...empty, total, pageCount };
  const order = total > rankingLimit ? 'newest' : 'rank';
  const rows = await searchPublishedArticles(
    db,
    query,
    order,
    resultsPerPage,
    (safePage - 1) * resultsPerPage,
    matches.ids,
  );
  const articles = await hydrateArticles(
    db,
    rows.map((row) => row.article),
  );
  const results = rows.flatMap((row, i) => {
    const article = articles[i];
    return article ? [{ article, rank: row.rank, snippetHtml: highlight(row.snippet) }] : [];
  });
  return { query: text, total, page: safePage, pageCount, order, results };
}

/**
 * Escapes a snippet and turns the markers into `<mark>`. The markers are paired by position, so stray
 * ones (which an article body could in theory contain) can never leave a tag open.
 */
export function highlight(snippet: string): string {
  const plain = stripMarkdown(snippet);
  let open = false;
  let out = '';
  for (const part of plain.split(/([\u0002\u0003])/)) {
    if (part === markStart) {
      if (!open) out += '<mark>';
      open = true;
    } else if (part === markEnd) {
      if (open) out += '</mark>';
      open = false;
    } else {
      out += escapeHtml(part);
    }
  }
  return open ? `${out}</mark>` : out;
}

/** Snippets come from the Markdown source: drop the syntax a reader would not see (links keep their text). */
function stripMarkdown(text: string): string {
  return text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(^|\s)#{1,6}\s/g, '$1')
    .replace(/(^|\s)>+\s/g, '$1')
    .replace(/[*_`]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
