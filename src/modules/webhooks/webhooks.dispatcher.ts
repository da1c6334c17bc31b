import { Webhook } from 'standardwebhooks';
import type { Db } from '../../db/index.ts';
import { createRunner, type JobKind, type Outcome } from '../../jobs/runner.ts';
import type { SecretSealer } from '../settings/index.ts';
import {
  claimDeliveries,
  type ClaimedDelivery,
  findDueDeliveries,
  findEndpointsByIds,
  listDeliveryClaimants,
  recordAttempt,
  releaseDeliveries,
  releaseStaleDeliveries,
  renewDeliveryClaims,
} from './webhooks.repository.ts';
import { postWebhook, type PostResult } from './webhooks.request.ts';
import type { WebhookEndpointRow } from './webhooks.table.ts';

export interface WebhookDispatcherOptions {
  /** Deliveries in flight at once (each to its own endpoint and subject). */
  lanes: number;
  batchSize: number;
  leaseMs: number;
  pollMs: number;
  /** One attempt's limit, connection and answer together. */
  timeoutMs: number;
  /**
   * Waits after each failed attempt (the last repeats). Standard Webhooks' own schedule: 5 s, 5 min, 30 min,
   * 2 h, 5 h, 10 h; the last attempt falls at `giveUpAfterMs`.
   */
  retryDelaysMs: readonly number[];
  /** A delivery still failing this long after its event is given up (`failed`). */
  giveUpAfterMs: number;
}

const hour = 60 * 60 * 1000;

export const defaultDispatcherOptions: WebhookDispatcherOptions = {
  lanes: 4,
  batchSize: 50,
  leaseMs: 60_000,
  pollMs: 1_000,
  timeoutMs: 10_000,
  retryDelaysMs: [5_000, 5 * 60_000, 30 * 60_000, 2 * hour, 5 * hour, 10 * hour],
  giveUpAfterMs: 24 * hour,
};

export interface WebhookDispatcherDeps {
  db: Db;
  sealer: SecretSealer;
  /** Absolute URLs in payloads are made from this (`path` → `url`). */
  siteUrl: string;
  now?: () => Date;
  log: (line: string) => void;
  options?: Partial<WebhookDispatcherOptions>;
}

/** The worker job's shape (BackgroundJob in src/worker.ts), plus one round on demand for tests. */
export interface WebhookDispatcher {
  readonly name: 'webhooks';
  start(): void;
  stop(): Promise<void>;
  wake(): void;
  /** One round; resolves with how many deliveries it claimed. */
  runOnce(): Promise<number>;
}

type Batch = Map<number, WebhookEndpointRow>;

/**
 * The `webhooks` job: sends queued deliveries, each signed per Standard Webhooks (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature`), and records each attempt with its status and response time.
 * A 2xx delivers; anything else is retried on the schedule above until a day has passed, then `failed`.
 * Only the first open delivery of a subject to an endpoint is claimed (webhooks.repository.ts), so one
 * article's events arrive in the order they happened, however many retries the first one needs.
 */
export function createWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const options: WebhookDispatcherOptions = { ...defaultDispatcherOptions, ...deps.options };
  const { db } = deps;
  const now = () => deps.now?.() ?? new Date();
  /** Each attempt's result, from `run` to `record` (the runner carries only the outcome). */
  const attempts = new Map<number, PostResult>();

  const kind: JobKind<ClaimedDelivery, undefined, Batch> = {
    name: 'webhooks',
    async claim({ claimant, now: at, limit }) {
      const due = await findDueDeliveries(db, at.toISOString(), limit);
      return claimDeliveries(db, due, claimant, at.toISOString());
    },
    async prepare(items) {
      const endpoints = await findEndpointsByIds(db, [...new Set(items.map((i) => i.endpoint_id))]);
      return new Map(endpoints.map((e) => [Number(e.id), e]));
    },
    run: (delivery, { prepared }) => send(delivery, prepared.get(delivery.endpoint_id)),
    async record(settled, { claimant, now: at }) {
      await db.transaction().execute(async (trx) => {
        for (const { item, outcome } of settled) {
          const attempt = attempts.get(item.id);
          if (!attempt || outcome.kind === 'paused' || outcome.kind === 'skipped') continue;
          const next =
            outcome.kind === 'done'
              ? { status: 'delivered' as const }
              : outcome.kind === 'failed'
                ? { status: 'failed' as const }
                : { status: 'queued' as const, nextAttemptAt: outcome.at.toISOString() };
          await recordAttempt(trx, {
            id: item.id,
            claimant,
            at: at.toISOString(),
            attempt: {
              status: attempt.status,
              durationMs: attempt.durationMs,
              error: attempt.error,
              excerpt: attempt.excerpt,
            },
            outcome: next,
          });
        }
      });
      for (const { item } of settled) attempts.delete(item.id);
    },
    release: (ids, { claimant, dueAt }) => releaseDeliveries(db, ids, claimant, dueAt.toISOString()),
    renew: (ids, { claimant, now: at }) => renewDeliveryClaims(db, claimant, ids, at.toISOString()),
    listClaimants: () => listDeliveryClaimants(db),
    async sweep({ staleBefore, deadClaimants, keep }) {
      const released = await releaseStaleDeliveries(db, staleBefore.toISOString(), deadClaimants, keep);
      if (released > 0)
        deps.log(
          `webhooks: returned ${released} deliveries whose claims had expired (a stopped process) to the queue.`,
        );
    },
  };

  async function send(delivery: ClaimedDelivery, endpoint: WebhookEndpointRow | undefined): Promise<Outcome> {
    // The endpoint was removed after the claim: its deliveries go with it.
    if (!endpoint) return { kind: 'skipped', reason: 'the endpoint was removed' };
    const at = now();
    const body = withUrls(delivery.payload, deps.siteUrl);
    let signature: string;
    try {
      signature = sign(endpoint, delivery.message_id, at, body);
    } catch {
      // Sealed under another SECRET_KEY: nothing can be signed until an admin rotates the endpoint's secret.
      attempts.set(delivery.id, {
        status: null,
        durationMs: 0,
        error: 'the signing secret cannot be read (was SECRET_KEY changed?); rotate it',
        excerpt: null,
      });
      return { kind: 'failed', reason: 'the signing secret cannot be read' };
    }
    const headers = {
      'user-agent': `Gazette-Webhooks (+${deps.siteUrl})`,
      'webhook-id': delivery.message_id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    };
    const result = await postWebhook(new URL(endpoint.url), body, headers, {
      allowPrivate: Number(endpoint.allow_private) === 1,
      timeoutMs: options.timeoutMs,
    });
    attempts.set(delivery.id, result);
    if (result.error === null) return { kind: 'done', result: undefined };
    const reason = result.error;
    const giveUpAt = Date.parse(delivery.created_at) + options.giveUpAfterMs;
    if (at.getTime() >= giveUpAt) {
      deps.log(
        `webhooks: delivery ${delivery.id} to endpoint ${endpoint.id} given up after ${delivery.attempts + 1} attempts (${reason}).`,
      );
      return { kind: 'failed', reason };
    }
    const delay =
      options.retryDelaysMs[Math.min(delivery.attempts, options.retryDelaysMs.length - 1)] ??
      options.retryDelaysMs.at(-1) ??
      60_000;
    return { kind: 'retry', at: new Date(Math.min(at.getTime() + delay, giveUpAt)), reason };
  }

  /** The signatures under the current secret and, within a day of a rotation, the previous one. */
  function sign(endpoint: WebhookEndpointRow, messageId: string, at: Date, body: string): string {
    const secrets = [endpoint.secret_sealed];
    if (
      endpoint.previous_secret_sealed &&
      endpoint.previous_secret_until &&
      Date.parse(endpoint.previous_secret_until) > at.getTime()
    )
      secrets.push(endpoint.previous_secret_sealed);
    return secrets.map((sealed) => new Webhook(deps.sealer.open(sealed)).sign(messageId, at, body)).join(' ');
  }

  const runner = createRunner(kind, {
    now,
    log: { info: deps.log, warn: (line) => deps.log(`${line} (will retry)`) },
    options: {
      lanes: options.lanes,
      batchSize: options.batchSize,
      leaseMs: options.leaseMs,
      pollMs: options.pollMs,
      unrefPoll: true,
    },
  });
  return {
    name: 'webhooks',
    start: () => runner.start(),
    stop: () => runner.stop(),
    wake: () => runner.wake(),
    runOnce: async () => (await runner.runOnce()).claimed,
  };
}

/** The stored payload with `url` (absolute) beside each `path` of the objects in its data. */
function withUrls(payload: string, siteUrl: string): string {
  const parsed = JSON.parse(payload) as { data?: Record<string, unknown> };
  for (const value of Object.values(parsed.data ?? {})) {
    if (
      value &&
      typeof value === 'object' &&
      'path' in value &&
      typeof value.path === 'string' &&
      value.path.startsWith('/')
    ) {
      Object.assign(value, { url: `${siteUrl}${value.path}` });
    }
  }
  return JSON.stringify(parsed);
}
