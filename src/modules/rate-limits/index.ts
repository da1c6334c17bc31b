// What other parts of Gazette may use of the rate-limits module (docs/ARCHITECTURE.md, "Modules and borders").
export { ipSource, RateLimiter } from './rate-limits.service.ts';
export type { RateRule } from './rate-limits.service.ts';
