// @tryghost/nql ships no types; only what Gazette uses of it.
declare module '@tryghost/nql' {
  interface NqlQuery {
    /** The filter as Mongo-style JSON ({ $and: [...] }, { tag: { $in: [...] } }…); throws on a syntax error. */
    parse(): Record<string, unknown>;
    /** Whether a plain object matches the filter (in memory). */
    queryJSON(object: object): boolean;
  }
  export default function nql(filter: string, options?: object): NqlQuery;
}
