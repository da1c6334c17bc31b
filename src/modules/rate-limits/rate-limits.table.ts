/** A rate-limit counter: `hits` in the window that ends at `expires_at` (see rate-limits.service.ts). */
export interface RateLimitsTable {
  key: string;
  hits: number;
  expires_at: string;
}

export interface RateLimitsTables {
  rate_limits: RateLimitsTable;
}
