import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';

// Which representation (content coding) and which part (Range) of a response to send, and whether the
// client's copy is still good (If-None-Match), by RFC 9110. Shared by cached pages, /assets and /media.

export type ContentCoding = 'br' | 'gzip' | 'identity';

/** Below this size compression saves less than it costs (and a gzip header can outgrow the body). */
const minimumCompressedSize = 1024;

/**
 * The content coding to send for an `Accept-Encoding` header (RFC 9110 §12.5.3): the acceptable coding
 * with the highest q-value, `q=0` meaning "not acceptable" (`br;q=0`, `identity;q=0`), `*` standing for
 * any coding not listed, identity acceptable unless excluded. Among equal q-values we prefer brotli, then
 * gzip, then identity; a small body prefers identity. No header means identity. When nothing the client
 * accepts is available (`identity;q=0` alone) we send identity anyway, which §12.5.3 allows.
 */
export function chooseContentCoding(acceptEncoding: string | undefined, byteLength: number): ContentCoding {
  if (acceptEncoding === undefined) return 'identity';
  const preferred: ContentCoding[] =
    byteLength > minimumCompressedSize ? ['br', 'gzip', 'identity'] : ['identity', 'br', 'gzip'];
  const chosen = new Negotiator({ headers: { 'accept-encoding': acceptEncoding } }).encoding(preferred, { preferred });
  return chosen === 'br' || chosen === 'gzip' ? chosen : 'identity';
}

/** A body kept in memory with its compressed forms, each made on first demand. */
export interface CompressibleBody {
  readonly body: Buffer;
  gzip?: Buffer;
  br?: Buffer;
}

/** The bytes of `entry` in `coding`, compressing once and keeping the result on the entry. */
export function encodedBody(entry: CompressibleBody, coding: ContentCoding): Buffer {
  switch (coding) {
    case 'br':
      return (entry.br ??= brotliCompressSync(entry.body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9 } }));
    case 'gzip':
      return (entry.gzip ??= gzipSync(entry.body, { level: 9 }));
    case 'identity':
      return entry.body;
  }
}

/**
 * The ETag of one content coding of a representation: `"abc"` for identity, `"abc-br"` for brotli. Each
 * coding is a different representation with different bytes, so it needs its own validator (RFC 9110
 * §8.8.3.3), or a cache holding the gzip form could answer a brotli client's revalidation with it.
 */
export function codingEtag(etag: string, coding: ContentCoding): string {
  if (coding === 'identity') return etag;
  return etag.endsWith('"') ? `${etag.slice(0, -1)}-${coding}"` : etag;
}

/**
 * Answers a GET or HEAD for an in-memory body through Fastify: picks the content coding, sends its ETag and
 * `Vary: Accept-Encoding`, 304 when If-None-Match matches that ETag, else the body in that coding. The
 * caller sets the other headers (type, caching) first.
 */
export function sendNegotiated(
  request: FastifyRequest,
  reply: FastifyReply,
  entry: CompressibleBody,
  etag: string,
): FastifyReply {
  const coding = chooseContentCoding(request.headers['accept-encoding'], entry.body.length);
  const codedEtag = codingEtag(etag, coding);
  reply.header('etag', codedEtag).header('vary', 'Accept-Encoding');
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined && ifNoneMatchMatches(ifNoneMatch, codedEtag)) return reply.code(304).send();
  if (coding !== 'identity') reply.header('content-encoding', coding);
  return reply.send(encodedBody(entry, coding));
}

/**
 * Whether `If-None-Match` matches `etag` (RFC 9110 §13.1.2): `*` matches any current representation;
 * otherwise a comma-separated list of entity-tags, compared weakly (`W/"x"` matches `"x"`). A malformed
 * entry matches nothing.
 */
export function ifNoneMatchMatches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  // Entity-tags may contain commas inside their quotes, so match whole tags rather than splitting.
  for (const match of ifNoneMatch.matchAll(/(?:W\/)?("[^"]*")/g)) if (match[1] === opaque) return true;
  return false;
}

/** What a Range header asks of a file of `size` bytes. */
export type RangeRequest =
  /** Send the whole file with 200: no header, another unit, or several ranges. */
  | { kind: 'whole' }
  /** Send these bytes (inclusive) with 206. */
  | { kind: 'part'; start: number; end: number }
  /** 416: a malformed bytes range, or one that starts beyond the file. */
  | { kind: 'unsatisfiable' };

const bytesRangePattern = /^(\d{1,15})-(\d{0,15})$|^-(\d{1,15})$/;

/**
 * Reads a Range header by RFC 9110 §14.1–14.2 for a server that sends one range at most (no
 * multipart/byteranges): a unit other than `bytes` is ignored (200, as §14.2 requires); several ranges
 * are ignored too (200 with the whole file, which §14.2 allows, rather than refusing a valid request); a
 * last position past the end is the end, and a suffix longer than the file is the whole file (206,
 * §14.1.3); a malformed range, a first position past the end or an empty suffix is unsatisfiable (416).
 */
export function parseRangeHeader(range: string | undefined, size: number): RangeRequest {
  if (range === undefined) return { kind: 'whole' };
  const equals = range.indexOf('=');
  if (equals < 0 || range.slice(0, equals).trim().toLowerCase() !== 'bytes')
    return equals < 0 ? { kind: 'unsatisfiable' } : { kind: 'whole' };
  const specs = range
    .slice(equals + 1)
    .split(',')
    .map((spec) => spec.trim())
    .filter((spec) => spec !== '');
  if (specs.length !== 1) return specs.length === 0 ? { kind: 'unsatisfiable' } : { kind: 'whole' };
  const match = bytesRangePattern.exec(specs[0] ?? '');
  if (!match) return { kind: 'unsatisfiable' };
  const [, first, last, suffix] = match;
  if (suffix !== undefined) {
    const length = Number(suffix);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === undefined || last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== undefined && last !== '' && Number(last) < start) return { kind: 'unsatisfiable' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', start, end };
}
