import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { createGroupCommit, type GroupCommit } from '../../db/group-commit.ts';
import { type Db, inTransaction } from '../../db/index.ts';
import { clearKey, deleteExpired, findExpiry, refundHit, takeHit } from './rate-limits.repository.ts';

/** At most `limit` hits per key in a window of `windowMs`; a limit of 0 means no limit (nothing is stored). */
export interface RateRule {
  limit: number;
  windowMs: number;
}

interface Hit {
  key: string;
  limit: number;
  now: string;
  expiresAt: string;
}

/** Every this many hits, a process deletes up to `pruneBatch` expired rows: more than it can have added. */
const pruneEvery = 64;
const pruneBatch = 256;

/**
 * Rate limits shared by every process through the `rate_limits` table: each hit is one conditional upsert,
 * so a burst cannot slip past between a check and a write, and costs the same whatever the table holds.
 * Keys are hashed (a fixed 22 characters whatever was typed, and no addresses at rest). Hits that arrive
 * together share one transaction (group commit), as sign-ups do, so a limit costs no commit of its own.
 */
export class RateLimiter {
  private readonly db: Db;
  private readonly hits: GroupCommit<Hit, boolean>;
  private hitsSincePrune = 0;

  constructor(db: Db) {
    this.db = db;
    this.hits = createGroupCommit((batch) => this.write(batch), { maxBatch: 200 });
  }

  /**
   * Counts a hit of `value` in `scope` if it is under the rule's limit. Resolves with null when counted, or
   * with the seconds until the window ends (Retry-After) when the limit is reached.
   */
  async hit(scope: string, value: string, rule: RateRule, now: Date): Promise<number | null> {
    if (rule.limit === 0) return null; // 0: no limit (SIGNUP_LIMIT_*=0 for benchmarks)
    const key = limitKey(scope, value);
    const counted = await this.hits.add({ key, limit: rule.limit, now: now.toISOString(), expiresAt: new Date(now.getTime() + rule.windowMs).toISOString() });
    if (counted) return null;
    const expiry = await findExpiry(this.db, key);
    const freeAt = expiry ? Date.parse(expiry) : now.getTime() + rule.windowMs;
    return Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000));
  }

  /**
   * Counts a hit inside the caller's transaction `trx` (a sign-up's own group commit, say), so that it costs
   * no transaction of its own and is undone if that transaction is. Resolves with whether it counted.
   */
  async hitWithin(trx: Db, scope: string, value: string, rule: RateRule, now: Date): Promise<boolean> {
    if (rule.limit === 0) return true;
    this.hitsSincePrune++;
    return takeHit(trx, limitKey(scope, value), rule.limit, now.toISOString(), new Date(now.getTime() + rule.windowMs).toISOString());
  }

  /** Gives back one hit of `value` in `scope`. */
  async refund(scope: string, value: string): Promise<void> {
    await refundHit(this.db, limitKey(scope, value));
  }

  /** Forgets every hit of `value` in `scope`. */
  async clear(scope: string, value: string): Promise<void> {
    await clearKey(this.db, limitKey(scope, value));
  }

  private async write(batch: Hit[]): Promise<boolean[]> {
    // In key order, so that two processes' batches lock the same rows in the same order (no deadlock).
    const order = batch.map((hit, i) => ({ hit, i })).sort((a, b) => (a.hit.key < b.hit.key ? -1 : a.hit.key > b.hit.key ? 1 : 0));
    const results = await inTransaction(this.db, async (trx) => {
      const counted: boolean[] = Array.from({ length: batch.length }, () => false);
      for (const { hit, i } of order) counted[i] = await takeHit(trx, hit.key, hit.limit, hit.now, hit.expiresAt);
      return counted;
    });
    this.hitsSincePrune += batch.length;
    if (batch[0]) await this.pruneNow(batch[0].now);
    return results;
  }

  /**
   * Deletes up to `pruneBatch` expired rows once `pruneEvery` hits have been counted since the last time:
   * outside any hit's transaction, so it never holds their rows; bounded, so a hit never waits long.
   */
  async pruneNow(now: string): Promise<void> {
    if (this.hitsSincePrune < pruneEvery) return;
    this.hitsSincePrune = 0;
    await deleteExpired(this.db, now, pruneBatch);
  }
}

/** `scope:` and a 128-bit hash of the value: fixed size, whatever the value. */
function limitKey(scope: string, value: string): string {
  return `${scope}:${createHash('sha256').update(value).digest('base64url').slice(0, 22)}`;
}

/**
 * What a per-IP limit counts: an IPv4 address (also when written IPv4-mapped, `::ffff:a.b.c.d`), or an
 * IPv6 address's /64, since one subscriber line gets at least a /64 and could otherwise use a fresh address
 * for every request (RFC 6177; RIPE-690 §4.2).
 */
export function ipSource(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (!(address instanceof ipaddr.IPv6)) return address.toString();
  return `${address.parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(':')}::/64`;
}
