import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { createGroupCommit, type GroupCommit } from '../../db/group-commit.ts';
import { type Db, inTransaction } from '../../db/index.ts';
import { clearKey, deleteExpired, findExpiry, refundHit, takeHits } from './rate-limits.repository.ts';

/** At most `limit` hits per key in a window of `windowMs`; a limit of 0 means no limit (nothing is stored). */
export interface RateRule {
  limit: number;
  windowMs: number;
}

/** One hit asked for: `value` in `scope` under `rule`. */
export interface HitRequest {
  scope: string;
  value: string;
  rule: RateRule;
}

interface Hit {
  request: HitRequest;
  now: Date;
}

/** Every this many hits, a process deletes up to `pruneBatch` expired rows: more than it can have added. */
const pruneEvery = 64;
const pruneBatch = 256;

/**
 * Rate limits shared by every process through the `rate_limits` table: the hits of a batch are one upsert
 * per rule, so a burst cannot slip past between a check and a write, and cost the same whatever the table
 * holds.
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
    if (await this.hits.add({ request: { scope, value, rule }, now })) return null;
    const expiry = await findExpiry(this.db, limitKey(scope, value));
    const freeAt = expiry ? Date.parse(expiry) : now.getTime() + rule.windowMs;
    return Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000));
  }

  /**
   * Counts hits inside the caller's transaction `trx` (a batch of sign-ups' own group commit, say), so that
   * they cost no transaction of their own and are undone if that transaction is: one statement per rule,
   * however many hits. Resolves with whether each one counted, in order.
   */
  async hitsWithin(trx: Db, requests: readonly HitRequest[], now: Date): Promise<boolean[]> {
    const counted = requests.map((r) => r.rule.limit === 0);
    const byRule = new Map<string, number[]>();
    for (const [i, r] of requests.entries()) {
      if (r.rule.limit === 0) continue;
      const rule = `${r.rule.limit}/${r.rule.windowMs}`;
      byRule.set(rule, [...(byRule.get(rule) ?? []), i]);
    }
    for (const indexes of byRule.values()) {
      const first = requests[indexes[0] ?? 0];
      if (!first) continue;
      const keys = indexes.map((i) => limitKey(requests[i]!.scope, requests[i]!.value));
      const asked = new Map<string, number>();
      for (const key of keys) asked.set(key, (asked.get(key) ?? 0) + 1);
      // In key order, so that two processes' statements lock the same rows in the same order (no deadlock).
      const ordered = [...asked]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, count]) => ({ key, count }));
      const granted = await takeHits(
        trx,
        ordered,
        first.rule.limit,
        now.toISOString(),
        new Date(now.getTime() + first.rule.windowMs).toISOString(),
      );
      // The first hits of a key, in arrival order, are the ones that fit.
      indexes.forEach((i, n) => {
        const key = keys[n] ?? '';
        const left = granted.get(key) ?? 0;
        counted[i] = left > 0;
        granted.set(key, left - 1);
      });
    }
    this.hitsSincePrune += requests.length;
    return counted;
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
    const now = batch.reduce((latest, hit) => (hit.now > latest ? hit.now : latest), new Date(0));
    const results = await inTransaction(this.db, (trx) =>
      this.hitsWithin(
        trx,
        batch.map((hit) => hit.request),
        now,
      ),
    );
    await this.pruneNow(now.toISOString());
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
