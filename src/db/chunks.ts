/**
 * Most values one `IN (…)` list carries. SQLite refuses a statement with more than 32,766 bound variables
 * ("too many SQL variables"), PostgreSQL's protocol counts a statement's parameters in 16 bits (65,535),
 * and long lists plan slowly on both; so a list whose length the caller does not bound is cut into slices.
 */
export const inListChunkSize = 1000;

/**
 * Runs `query` once per slice of `values` (at most `inListChunkSize` each), one after the other (a
 * transaction has one connection), and returns the rows of all slices in order. Rows grouped by one value
 * (an article's authors) stay together, since each value is in exactly one slice.
 */
export async function inChunks<T, R>(values: readonly T[], query: (chunk: T[]) => Promise<readonly R[]>): Promise<R[]> {
  const rows: R[] = [];
  for (let start = 0; start < values.length; start += inListChunkSize)
    rows.push(...(await query(values.slice(start, start + inListChunkSize))));
  return rows;
}
