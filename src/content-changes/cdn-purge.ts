/**
 * Tells a CDN in front of Gazette that the site's pages changed (CDN_PURGE_URL). Public pages are cached by
 * a CDN for `s-maxage` (see page-cache.ts); after a publish or edit they must be purged or revalidated, or
 * readers behind the CDN keep the old page for minutes.
 *
 * The request is generic, so any CDN or cache can be adapted with a few lines (see docs/operations.md,
 * "Several processes"): `POST CDN_PURGE_URL` with
 *
 *     content-type: application/json
 *     authorization: <CDN_PURGE_AUTHORIZATION, when set>
 *     {"event":"content.changed","site":"https://news.example","version":42,"purge":"all","changedAt":"…"}
 *
 * "purge":"all" means every public page of `site` (Gazette cannot know every page a change shows on: an
 * edit changes the article, the home page, tag and author archives, feeds and sitemaps). Any 2xx is success.
 *
 * Failures never block publishing: the purge runs in the background, is retried with backoff (1 s, 4 s,
 * 16 s by default), and is logged when it finally fails. Changes made while a purge is in flight are
 * folded into one more purge, so a burst of edits sends at most two requests.
 */
export interface CdnPurger {
  /** Schedules a purge for this change (never throws, never waits). */
  purge(version: number): void;
  /** Cuts the waits short, makes at most one more attempt, and waits for it (at most `timeoutMs`). */
  stop(): Promise<void>;
}

export interface CdnPurgeOptions {
  url: string;
  /** Sent as the Authorization header when set (e.g. `Bearer …`); never logged. */
  authorization?: string | null;
  /** The public site URL, in the body so one endpoint can serve several sites. */
  siteUrl: string;
  /**
   * Wait before purging, so that every web process has dropped its own cached pages first (otherwise the CDN
   * could refetch the old page from a process that has not heard of the change yet).
   */
  delayMs: number;
  attempts?: number;
  retryBaseMs?: number;
  timeoutMs?: number;
  log: { info(message: string): void; warn(message: string): void };
  now?: () => Date;
}

export function createCdnPurger(options: CdnPurgeOptions): CdnPurger {
  const attempts = options.attempts ?? 4;
  const retryBaseMs = options.retryBaseMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? (() => new Date());
  const target = describeTarget(options.url);
  /** The newest version not purged yet; a purge covers every change up to it. */
  let wanted = 0;
  let running: Promise<void> | undefined;
  let stopped = false;
  let wakeUp: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const done = () => {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakeUp = done;
    });

  const send = async (version: number): Promise<string | undefined> => {
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.authorization ? { authorization: options.authorization } : {}),
        },
        body: JSON.stringify({
          event: 'content.changed',
          site: options.siteUrl,
          version,
          purge: 'all',
          changedAt: now().toISOString(),
        }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      await response.body?.cancel();
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      // fetch() wraps the network error: its cause says what happened (ECONNREFUSED, a bad port…).
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : 'error');
    }
  };

  const run = async () => {
    await sleep(options.delayMs);
    // On stop() the delay and retry waits end early and one last attempt is made, so a shutting-down
    // process still purges for its last change if the CDN answers.
    while (wanted > 0) {
      const version = wanted;
      let failure: string | undefined;
      let attempt = 0;
      while (attempt < attempts) {
        attempt++;
        failure = await send(version);
        if (failure === undefined || stopped || attempt === attempts) break;
        await sleep(retryBaseMs * 4 ** (attempt - 1));
      }
      if (failure === undefined) log(`Purged the CDN (${target}) for content version ${version}.`, 'info');
      else
        log(
          `Could not purge the CDN (${target}) for content version ${version} after ${attempt} attempt(s): ${failure}. Its copies expire by s-maxage.`,
          'warn',
        );
      // Changes that arrived meanwhile need one more purge; anything older is covered.
      if (wanted === version) wanted = 0;
      if (stopped) break;
    }
  };
  const log = (message: string, level: 'info' | 'warn') => options.log[level](message);

  return {
    purge(version) {
      if (stopped) return;
      wanted = Math.max(wanted, version);
      running ??= run().finally(() => (running = undefined));
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      if (running) await Promise.race([running, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    },
  };
}

/** The purge endpoint for logs: scheme, host and path only (a query string may carry a token). */
function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'CDN_PURGE_URL';
  }
}
