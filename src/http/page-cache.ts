import { createHash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  chooseContentCoding,
  codingEtag,
  type CompressibleBody,
  type ContentCoding,
  encodedBody,
  ifNoneMatchMatches,
  sendNegotiated,
} from './negotiation.ts';

/** A rendered response kept in memory: the body once, and its compressed forms made on first demand. */
interface CachedResponse extends CompressibleBody {
  readonly key: string;
  /** The identity form's ETag; each content coding has its own (`codingEtag`). */
  readonly etag: string;
  readonly contentType: string;
  readonly cacheControl: string;
  /** Every header of a 200 answer except etag, content-encoding and content-length, for the fast path. */
  readonly headers: OutgoingHttpHeaders;
  /** Rendered pages also show the date and "now"-relative lists, so even unchanged content is re-rendered now and then. */
  readonly expiresAt: number;
  /** The request paths `tryServeRaw` answers with this entry; they leave the cache with it. */
  readonly paths: string[];
  /** What this entry counts against the byte budget: its bodies (compressed forms included), paths and overhead. */
  bytes: number;
}

export interface RenderedPage {
  body: string;
  contentType: string;
  /** Defaults to the public page policy below. */
  cacheControl?: string;
}

/** What an entry costs beyond its bodies, estimated: the headers object, ETag, key, paths array and map slots. */
const entryOverheadBytes = 1024;
/** A path's cost in the fast path's map: its UTF-16 string and a map slot. */
const pathBytes = (path: string) => 2 * path.length + 64;
/**
 * The fast path answers a page by every spelling of its path that routed to it (`/tags/x/`, `//tags/x`), but
 * a few are enough: past these, further spellings go through Fastify, so they cannot fill the cache.
 */
const maxPathsPerEntry = 4;

/** The default budget (PAGE_CACHE_MB): about 2,000 article pages (9–13 KB, plus 3–4 KB brotli) under the memory targets. */
export const defaultPageCacheBytes = 32 * 1024 * 1024;

/**
 * Public pages change only when content does, so each is rendered once per process and served from memory
 * until `invalidate()`. This is what lets an article page run near the speed of a static file.
 * Only successful renders are cached: a 404 for an unknown slug never takes a slot.
 *
 * The cache holds at most `maxBytes` (bodies, their gzip and brotli forms made on demand, and a fixed
 * overhead per entry). Past that it drops the least recently used page, one at a time, so a crawler walking
 * the archive pushes out cold pages while the front page and today's articles stay.
 */
export class PageCache {
  /** Every entry by key, least recently used first (a Map keeps insertion order; a use re-inserts). */
  readonly #entries = new Map<string, CachedResponse>();
  /** The same entries by the exact request path that was answered with them, for `tryServeRaw`. */
  readonly #byPath = new Map<string, CachedResponse>();
  readonly #pending = new Map<string, Promise<CachedResponse>>();
  readonly #maxBytes: number;
  readonly #lifetimeMs: number;
  readonly #extraHeaders: OutgoingHttpHeaders;
  readonly #invalidated: (() => void)[] = [];
  #bytes = 0;
  /** The most recently used entry: using it again needs no reordering (the common case under load). */
  #newest: CachedResponse | undefined;
  #generation = 0;

  constructor(options: { maxBytes?: number; lifetimeMs?: number; extraHeaders?: OutgoingHttpHeaders } = {}) {
    this.#maxBytes = options.maxBytes ?? defaultPageCacheBytes;
    this.#lifetimeMs = options.lifetimeMs ?? 5 * 60_000;
    this.#extraHeaders = options.extraHeaders ?? {};
  }

  /** Drops every cached page (content changed), and tells whatever keeps data derived from the same content. */
  invalidate(): void {
    this.#generation++;
    this.#entries.clear();
    this.#byPath.clear();
    this.#pending.clear();
    this.#bytes = 0;
    this.#newest = undefined;
    for (const listener of this.#invalidated) listener();
  }

  /** Calls `listener` on every `invalidate()`: for caches of the content pages are made from (archive indexes). */
  onInvalidate(listener: () => void): void {
    this.#invalidated.push(listener);
  }

  /** Pages held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes held, as counted against the budget; never more than `maxBytes` once a call returns. */
  get bytes(): number {
    return this.#bytes;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Sends the cached page for `key`, rendering it first if needed. Handles ETag/304 and gzip/brotli. */
  async serve(
    request: FastifyRequest,
    reply: FastifyReply,
    key: string,
    render: () => Promise<RenderedPage>,
  ): Promise<FastifyReply> {
    const cached = this.#entries.get(key);
    const entry = cached && cached.expiresAt > Date.now() ? cached : await this.#fill(key, render);
    const path = request.raw.url;
    // Only plain paths take the fast path: a query string may select another page (`/terms?version=1`).
    if (path !== undefined && !path.includes('?') && this.#entries.get(key) === entry) {
      this.#use(entry);
      this.#addPath(entry, path);
    }
    reply.header('content-type', entry.contentType).header('cache-control', entry.cacheControl);
    // Compress here, where the bytes are counted, before the shared negotiation sends what it finds.
    this.#encoded(entry, chooseContentCoding(request.headers['accept-encoding'], entry.body.length));
    return sendNegotiated(request, reply, entry, entry.etag);
  }

  /**
   * The body of a page kept like the others (dropped by `invalidate()`, expiring after the same lifetime)
   * but never answered by path or with public caching: for a page that answers a POST the same way every
   * time, such as "check your inbox" after a sign-up. `key` must not be one that `serve` uses.
   */
  async body(key: string, render: () => Promise<string>): Promise<Buffer> {
    const cached = this.#entries.get(key);
    const entry =
      cached && cached.expiresAt > Date.now()
        ? cached
        : await this.#fill(key, async () => ({ body: await render(), contentType: 'text/html; charset=utf-8' }));
    if (this.#entries.get(key) === entry) this.#use(entry);
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
    this.#use(entry);
    const coding = chooseContentCoding(req.headers['accept-encoding'], entry.body.length);
    const etag = codingEtag(entry.etag, coding);
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch !== undefined && ifNoneMatchMatches(ifNoneMatch, etag)) {
      res.writeHead(304, { ...entry.headers, etag });
      res.end();
      return true;
    }
    const body = this.#encoded(entry, coding);
    const headers =
      coding === 'identity'
        ? { ...entry.headers, etag, 'content-length': body.length }
        : { ...entry.headers, etag, 'content-encoding': coding, 'content-length': body.length };
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
          const entry = toCached(key, page, Date.now() + this.#lifetimeMs, this.#extraHeaders);
          if (generation === this.#generation) this.#admit(entry);
          return entry;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** Keeps `entry` (replacing an expired one under its key) as the most recently used, then evicts down to the budget. */
  #admit(entry: CachedResponse): void {
    const previous = this.#entries.get(entry.key);
    if (previous) this.#remove(previous);
    // A page bigger than the whole budget is served but never kept: it would evict everything else.
    if (entry.bytes > this.#maxBytes) return;
    this.#entries.set(entry.key, entry);
    this.#newest = entry;
    this.#bytes += entry.bytes;
    this.#evict();
  }

  /** Marks `entry` most recently used, if it is still held. */
  #use(entry: CachedResponse): void {
    if (entry === this.#newest || this.#entries.get(entry.key) !== entry) return;
    this.#entries.delete(entry.key);
    this.#entries.set(entry.key, entry);
    this.#newest = entry;
  }

  #addPath(entry: CachedResponse, path: string): void {
    if (this.#byPath.get(path) === entry || entry.paths.length >= maxPathsPerEntry) return;
    // The same path may now render under another key (the sitemap index is keyed by the hour).
    const other = this.#byPath.get(path);
    if (other) {
      other.paths.splice(other.paths.indexOf(path), 1);
      this.#grow(other, -pathBytes(path));
    }
    this.#byPath.set(path, entry);
    entry.paths.push(path);
    this.#grow(entry, pathBytes(path));
  }

  /** The body in `coding`; a compressed form made now counts against the budget while its entry is held. */
  #encoded(entry: CachedResponse, coding: ContentCoding): Buffer {
    const had = coding === 'identity' || entry[coding] !== undefined;
    const body = encodedBody(entry, coding);
    if (!had) this.#grow(entry, body.length);
    return body;
  }

  #grow(entry: CachedResponse, bytes: number): void {
    if (this.#entries.get(entry.key) !== entry) return;
    entry.bytes += bytes;
    this.#bytes += bytes;
    this.#evict();
  }

  /** Drops least recently used entries until the held bytes fit the budget. */
  #evict(): void {
    while (this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.values().next().value;
      if (oldest === undefined) break;
      this.#remove(oldest);
    }
  }

  #remove(entry: CachedResponse): void {
    this.#entries.delete(entry.key);
    for (const path of entry.paths) if (this.#byPath.get(path) === entry) this.#byPath.delete(path);
    this.#bytes -= entry.bytes;
    if (this.#newest === entry) this.#newest = undefined;
  }
}

/** Browsers revalidate after a minute; a CDN may serve a stale copy while it revalidates. */
export const publicPageCacheControl = 'public, max-age=60, s-maxage=300, stale-while-revalidate=600';

function toCached(
  key: string,
  page: RenderedPage,
  expiresAt: number,
  extraHeaders: OutgoingHttpHeaders,
): CachedResponse {
  const body = Buffer.from(page.body);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const cacheControl = page.cacheControl ?? publicPageCacheControl;
  return {
    key,
    body,
    etag,
    contentType: page.contentType,
    cacheControl,
    headers: {
      ...extraHeaders,
      'content-type': page.contentType,
      'cache-control': cacheControl,
      vary: 'Accept-Encoding',
    },
    expiresAt,
    paths: [],
    bytes: body.length + 2 * key.length + entryOverheadBytes,
  };
}
