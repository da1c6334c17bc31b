/** A rate-limit counter: `hits` in the window that ends at `expires_at` (see rate-limits.service.ts). */
export interface RateLimitsTable {
  key: string;
  hits: number;
  expires_at: string;
  /** How many hits the row's last upsert counted: what that statement returns (see takeHits). */
  granted: number;
}

export interface RateLimitsTables {
  rate_limits: RateLimitsTable;
}
