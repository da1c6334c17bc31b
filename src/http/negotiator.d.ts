// negotiator ships no types, and @types/negotiator lacks the `preferred` option of 1.x; only what
// http-negotiation.ts uses.
declare module 'negotiator' {
  export default class Negotiator {
    constructor(request: { headers: Record<string, string | undefined> });
    /** The best of `available` for Accept-Encoding; ties in q-value go to the earliest in `preferred`. */
    encoding(available: readonly string[], options?: { preferred?: readonly string[] }): string | undefined;
  }
}
