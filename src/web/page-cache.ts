import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A rendered response kept in memory: the body once, and its compressed forms made on first demand. */
interface CachedResponse {
  readonly body: Buffer;
  readonly etag: string;
  readonly contentType: string;
  readonly cacheControl: string;
  gzip?: Buffer;
  br?: Buffer;
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
  readonly #pending = new Map<string, Promise<CachedResponse>>();
  readonly #maxEntries: number;
  #generation = 0;

  constructor(maxEntries = 5000) {
    this.#maxEntries = maxEntries;
  }

  /** Drops every cached page (content changed). */
  invalidate(): void {
    this.#generation++;
    this.#entries.clear();
    this.#pending.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Sends the cached page for `key`, rendering it first if needed. Handles ETag/304 and gzip/brotli. */
  async serve(request: FastifyRequest, reply: FastifyReply, key: string, render: () => Promise<RenderedPage>): Promise<FastifyReply> {
    const entry = this.#entries.get(key) ?? (await this.#fill(key, render));
    return sendCached(request, reply, entry);
  }

  async #fill(key: string, render: () => Promise<RenderedPage>): Promise<CachedResponse> {
    // Concurrent first requests for one page share one render.
    let pending = this.#pending.get(key);
    if (!pending) {
      const generation = this.#generation;
      pending = render()
        .then((page) => {
          const entry = toCached(page);
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

function toCached(page: RenderedPage): CachedResponse {
  const body = Buffer.from(page.body);
  return {
    body,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    contentType: page.contentType,
    cacheControl: page.cacheControl ?? publicPageCacheControl,
  };
}

function sendCached(request: FastifyRequest, reply: FastifyReply, entry: CachedResponse): FastifyReply {
  reply.header('content-type', entry.contentType).header('cache-control', entry.cacheControl).header('etag', entry.etag).header('vary', 'Accept-Encoding');
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === entry.etag)) {
    return reply.code(304).send();
  }
  const accept = request.headers['accept-encoding'];
  if (accept !== undefined && entry.body.length > 1024) {
    if (/\bbr\b/.test(accept)) {
      entry.br ??= brotliCompressSync(entry.body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9 } });
      return reply.header('content-encoding', 'br').send(entry.br);
    }
    if (/\bgzip\b/.test(accept)) {
      entry.gzip ??= gzipSync(entry.body, { level: 9 });
      return reply.header('content-encoding', 'gzip').send(entry.gzip);
    }
  }
  return reply.send(entry.body);
}
