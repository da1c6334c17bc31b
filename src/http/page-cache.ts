import { createHash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { chooseContentCoding, codingEtag, type CompressibleBody, encodedBody, ifNoneMatchMatches, sendNegotiated } from './negotiation.ts';

/** A rendered response kept in memory: the body once, and its compressed forms made on first demand. */
interface CachedResponse extends CompressibleBody {
  /** The identity form's ETag; each content coding has its own (`codingEtag`). */
  readonly etag: string;
  readonly contentType: string;
  readonly cacheControl: string;
  /** Every header of a 200 answer except etag, content-encoding and content-length, for the fast path. */
  readonly headers: OutgoingHttpHeaders;
  /** Rendered pages also show the date and "now"-relative lists, so even unchanged content is re-rendered now and then. */
  readonly expiresAt: number;
}

export interface RenderedPage {
  body: string;
  contentType: string;
  /** Defaults to the public page policy below. */
  cacheControl?: string;
}

/**
 * Public pages change only when content does, so each is rendered once per process and served from memory
 * until `invalidate()`. This is what lets an article page run near the speed of a static file.
 * Only successful renders are cached: a 404 for an unknown slug never takes a slot.
 */
export class PageCache {
  readonly #entries = new Map<string, CachedResponse>();
  /** The same entries by the exact request path that was answered with them, for `tryServeRaw`. */
  readonly #byPath = new Map<string, CachedResponse>();
  readonly #pending = new Map<string, Promise<CachedResponse>>();
  readonly #maxEntries: number;
  readonly #lifetimeMs: number;
  readonly #extraHeaders: OutgoingHttpHeaders;
  #generation = 0;

  constructor(options: { maxEntries?: number; lifetimeMs?: number; extraHeaders?: OutgoingHttpHeaders } = {}) {
    this.#maxEntries = options.maxEntries ?? 5000;
    this.#lifetimeMs = options.lifetimeMs ?? 5 * 60_000;
    this.#extraHeaders = options.extraHeaders ?? {};
  }

  /** Drops every cached page (content changed). */
  invalidate(): void {
    this.#generation++;
    this.#entries.clear();
    this.#byPath.clear();
    this.#pending.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Sends the cached page for `key`, rendering it first if needed. Handles ETag/304 and gzip/brotli. */
  async serve(request: FastifyRequest, reply: FastifyReply, key: string, render: () => Promise<RenderedPage>): Promise<FastifyReply> {
    const cached = this.#entries.get(key);
    const entry = cached && cached.expiresAt > Date.now() ? cached : await this.#fill(key, render);
    const path = request.raw.url;
    // Only plain paths take the fast path: a query string may select another page (`/terms?version=1`).
    if (path !== undefined && !path.includes('?') && this.#entries.get(key) === entry) {
      if (this.#byPath.size >= this.#maxEntries) this.#byPath.clear();
      this.#byPath.set(path, entry);
    }
    return sendCached(request, reply, entry);
  }

  /**
   * The body of a page kept like the others (dropped by `invalidate()`, expiring after the same lifetime)
   * but never answered by path or with public caching: for a page that answers a POST the same way every
   * time, such as "check your inbox" after a sign-up. `key` must not be one that `serve` uses.
   */
  async body(key: string, render: () => Promise<string>): Promise<Buffer> {
    const cached = this.#entries.get(key);
    const entry = cached && cached.expiresAt > Date.now() ? cached : await this.#fill(key, async () => ({ body: await render(), contentType: 'text/html; charset=utf-8' }));
    return entry.body;
  }

  /**
   * The fast path, called by the HTTP server before Fastify sees the request: a GET or HEAD for a path that
   * was already answered with a cached page is answered from memory with the same headers and bytes, with
   * no routing, hooks or reply pipeline. Anything else (a miss, an expired page, a query string, another
   * method) returns false and goes to Fastify, which renders and validates as usual.
   */
  tryServeRaw(req: IncomingMessage, res: ServerResponse): boolean {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.url === undefined) return false;
    const entry = this.#byPath.get(req.url);
    if (!entry || entry.expiresAt <= Date.now()) return false;
    const coding = chooseContentCoding(req.headers['accept-encoding'], entry.body.length);
    const etag = codingEtag(entry.etag, coding);
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch !== undefined && ifNoneMatchMatches(ifNoneMatch, etag)) {
      res.writeHead(304, { ...entry.headers, etag });
      res.end();
      return true;
    }
    const body = encodedBody(entry, coding);
    const headers = coding === 'identity' ? { ...entry.headers, etag, 'content-length': body.length } : { ...entry.headers, etag, 'content-encoding': coding, 'content-length': body.length };
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else res.end(body);
    return true;
  }

  async #fill(key: string, render: () => Promise<RenderedPage>): Promise<CachedResponse> {
    // Concurrent first requests for one page share one render.
    let pending = this.#pending.get(key);
    if (!pending) {
      const generation = this.#generation;
      pending = render()
        .then((page) => {
          const entry = toCached(page, Date.now() + this.#lifetimeMs, this.#extraHeaders);
          if (generation === this.#generation) {
            if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
            this.#entries.set(key, entry);
          }
          return entry;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }
}

/** Browsers revalidate after a minute; a CDN may serve a stale copy while it revalidates. */
export const publicPageCacheControl = 'public, max-age=60, s-maxage=300, stale-while-revalidate=600';

function toCached(page: RenderedPage, expiresAt: number, extraHeaders: OutgoingHttpHeaders): CachedResponse {
  const body = Buffer.from(page.body);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const cacheControl = page.cacheControl ?? publicPageCacheControl;
  return {
    body,
    etag,
    contentType: page.contentType,
    cacheControl,
    headers: { ...extraHeaders, 'content-type': page.contentType, 'cache-control': cacheControl, vary: 'Accept-Encoding' },
    expiresAt,
  };
}

function sendCached(request: FastifyRequest, reply: FastifyReply, entry: CachedResponse): FastifyReply {
  reply.header('content-type', entry.contentType).header('cache-control', entry.cacheControl);
  return sendNegotiated(request, reply, entry, entry.etag);
}
