import { PostgresAdapter, sql } from 'kysely';
import { type Db, inTransaction } from '../../db/index.ts';
import type { ArticleRow } from '../articles/index.ts';

/**
 * A query already reduced to plain search terms (letters and digits only) by the service. Each term of
 * two or more characters is matched as a prefix, and all terms must match. The terms travel as bound parameters, never as SQL text.
 */
export interface SearchTerms {
  terms: readonly string[];
  /** Wrapped around each matched word in `snippet`; the page turns them into `<mark>` after escaping. */
  markStart: string;
  markEnd: string;
}

export interface SearchRow {
  article: ArticleRow;
  /** Higher is better, on both databases (though not comparable between them). */
  rank: number;
  /** Plain text around the best match, with the markers around matched words. */
  snippet: string;
}

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

// The article columns, named: `a.*` on PostgreSQL would also carry the (large) search_vector.
const articleColumns = sql.raw(
  [
    'id',
    'slug',
    'title',
    'standfirst',
    'body_markdown',
    'status',
    'feature_image_id',
    'video_id',
    'video_caption',
    'seo_title',
    'seo_description',
    'correction_note',
    'scheduled_at',
    'published_at',
    'updated_at',
    'created_at',
  ]
    .map((c) => `a.${c}`)
    .join(', '),
);

/** A one-letter prefix would match a good part of the dictionary, so a single character is matched whole. */
const isPrefix = (term: string) => [...term].length > 1;
/** FTS5 query syntax: each term a quoted string (with a prefix star), space meaning AND. */
const fts5Query = (terms: readonly string[]) =>
  terms.map((t) => `"${t.replaceAll('"', '""')}"${isPrefix(t) ? '*' : ''}`).join(' ');
/**
 * tsquery syntax: each term (a prefix, `:*`, as above) joined with `&`. Terms hold only letters and digits. The
 * `simple` configuration keeps accents, so a term with accents also matches its bare form ("Hérzog" finds
 * "Herzog", as FTS5's remove_diacritics does); the reverse ("cafe" finding "café") would need `unaccent`.
 */
const tsQuery = (terms: readonly string[]) =>
  terms
    .map((t) => {
      const bare = t.normalize('NFD').replace(/\p{M}+/gu, '');
      const star = (term: string) => (isPrefix(term) ? ':*' : '');
      return bare && bare !== t ? `(${t}${star(t)} | ${bare}${star(bare)})` : `${t}${star(t)}`;
    })
    .join(' & ');

/** How many published articles match, and on PostgreSQL which (see `findSearchMatches`). */
export interface SearchMatches {
  count: number;
  /** PostgreSQL: the matching ids (all of them when `count` is under `upTo`), so that ranking need not search again. */
  ids: number[] | null;
}

/**
 * How many published articles match every term, counting no further than `upTo`: counting every match of
 * a word as broad as "the" costs as much as ranking them, and past the pages we offer the figure tells a
 * reader nothing. On PostgreSQL the matching ids come back too: the GIN index lookup of prefix terms is the
 * dearest part of a search there (each prefix's whole posting list is read), and ranking can then start
 * from the ids instead of looking them up again.
 */
export async function findSearchMatches(db: Db, { terms }: SearchTerms, upTo: number): Promise<SearchMatches> {
  if (terms.length === 0) return { count: 0, ids: null };
  if (!isPostgres(db)) {
    const result = await sql<{
      n: number;
    }>`SELECT count(*) AS n FROM (SELECT 1 FROM articles_fts WHERE articles_fts MATCH ${fts5Query(terms)} LIMIT ${upTo})`.execute(
      db,
    );
    return { count: Number(result.rows[0]?.n ?? 0), ids: null };
  }
  // With a LIMIT and a common word, PostgreSQL's planner prefers reading the table in order and testing
  // each row, which reads (and decompresses) the search vector of every article it passes, matching or
  // not. The GIN index visits matching rows only, so the sequential scan is ruled out for this statement.
  return inTransaction(db, async (trx) => {
    await sql`SET LOCAL enable_seqscan = off`.execute(trx);
    const result = await sql<{ id: number }>`SELECT id FROM articles
        WHERE status = 'published' AND search_vector @@ to_tsquery('simple', ${tsQuery(terms)}) LIMIT ${upTo}`.execute(
      trx,
    );
    const ids = result.rows.map((r) => Number(r.id));
    return { count: ids.length, ids };
  });
}

/**
 * One page of published articles matching every term. `order: 'rank'` puts the best first (newest first
 * among equals): a title match outranks a standfirst match, which outranks a body-only match (FTS5 `bm25`
 * with column weights 10/4/1; PostgreSQL `ts_rank_cd` over the A/B/C weights of the search vector).
 * `order: 'newest'` lists the most recently created first and ranks nothing: the service asks for it when
 * a query matches so many articles that ranking them all would cost more than it tells.
 * (SQLite's index holds published articles only, see the migration, so it needs no status filter.)
 */
export async function searchPublishedArticles(
  db: Db,
  query: SearchTerms,
  order: 'rank' | 'newest',
  limit: number,
  offset: number,
  /** From `findSearchMatches` on PostgreSQL: every match, when ranking (so they are not looked up again). */
  matchIds: readonly number[] | null = null,
): Promise<SearchRow[]> {
  const { terms, markStart, markEnd } = query;
  if (terms.length === 0) return [];
  type Row = ArticleRow & { search_rank: number | string; snippet: string | null };
  let rows: Row[];
  if (isPostgres(db)) {
    // Rank in the index first, then build headlines for the one page only: ts_headline re-parses the text.
    const options = `StartSel=${markStart}, StopSel=${markEnd}, MinWords=12, MaxWords=30, MaxFragments=1, FragmentDelimiter=" … "`;
    const ordering = order === 'rank' ? sql`search_rank DESC, a.published_at DESC, a.id DESC` : sql`a.id DESC`;
    // Ranking every match: from the ids already found (primary-key lookups) rather than a second index search.
    const matching =
      order === 'rank' && matchIds !== null
        ? sql`a.id = ANY(${[...matchIds]}::int[])`
        : sql`a.status = 'published' AND a.search_vector @@ q.q`;
    const result = await sql<Row>`WITH q AS (SELECT to_tsquery('simple', ${tsQuery(terms)}) AS q),
        hits AS (
          SELECT a.id, ${order === 'rank' ? sql`ts_rank_cd(a.search_vector, q.q)` : sql`0`} AS search_rank, a.published_at FROM articles a, q
          WHERE ${matching}
          ORDER BY ${ordering} LIMIT ${limit} OFFSET ${offset}
        )
      SELECT ${articleColumns}, hits.search_rank,
        ts_headline('simple', a.standfirst || E'\n' || a.body_markdown, q.q, ${options}) AS snippet
      FROM hits JOIN articles a ON a.id = hits.id, q
      ORDER BY ${ordering}`.execute(db);
    rows = result.rows;
  } else {
    // One statement on the index alone: FTS5 orders by rowid itself, and SQLite cuts snippets only for the
    // rows that survive LIMIT. (Joining `articles` in the same statement let the planner walk every match.)
    const match = fts5Query(terms);
    const hits = await sql<{ id: number; search_rank: number; snippet: string | null }>`SELECT rowid AS id,
        ${order === 'rank' ? sql`-bm25(articles_fts, 10.0, 4.0, 1.0)` : sql`0`} AS search_rank,
        snippet(articles_fts, -1, ${markStart}, ${markEnd}, '…', 24) AS snippet
      FROM articles_fts WHERE articles_fts MATCH ${match}
      ORDER BY ${order === 'rank' ? sql`search_rank DESC, rowid DESC` : sql`rowid DESC`} LIMIT ${limit} OFFSET ${offset}`.execute(
      db,
    );
    const ids = hits.rows.map((hit) => hit.id);
    const articles =
      ids.length === 0
        ? []
        : await db
            .selectFrom('articles')
            .selectAll()
            .where('id', 'in', ids)
            .where('status', '=', 'published')
            .execute();
    const byId = new Map(articles.map((article) => [article.id, article]));
    rows = hits.rows.flatMap((hit) => {
      const article = byId.get(hit.id);
      return article ? [{ ...article, search_rank: hit.search_rank, snippet: hit.snippet }] : [];
    });
  }
  return rows.map(({ search_rank, snippet, ...article }) => ({
    article,
    rank: Number(search_rank),
    snippet: snippet ?? '',
  }));
}
