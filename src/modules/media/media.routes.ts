import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import { ifNoneMatchMatches, parseRangeHeader } from '../../http/negotiation.ts';
import { immutableCacheControl, type MediaStorage, type ServableMediaStorage } from './media.storage.ts';

/** Fingerprinted names only: letters, digits, dots, hyphens and underscores, no leading dot. */
const fileNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
export interface MediaRoutesDeps {
  storage: MediaStorage;
  /** MEDIA_PUBLIC_URL: when set, `/media/<file>` redirects there (a CDN or a public bucket). */
  publicUrl: string | null;
}

/**
 * Serves stored media with HTTP Range support (206 / 416), ETag and a year of immutable caching, from
 * whichever storage is configured, by one code path: a file on disk is read from the range asked for, an
 * object in S3 with the Range passed on to GetObject. We send one range at most (no multipart/byteranges):
 * a Range asking for several, or in another unit, is ignored and the whole file sent with 200
 * (`parseRangeHeader`). Media is sent as stored, without content coding: it is compressed already.
 */
export function mediaRoutes(app: FastifyInstance, deps: MediaRoutesDeps): Promise<void> {
  const { storage, publicUrl } = deps;
  let serve: (request: FastifyRequest, reply: FastifyReply, fileName: string) => Promise<FastifyReply>;
  if (publicUrl !== null) {
    // Names are fingerprinted, so the redirect itself can be cached for good by browsers and CDNs.
    serve = async (_request, reply, fileName) =>
      reply
        .header('cache-control', immutableCacheControl)
        .redirect(`${publicUrl}/${encodeURIComponent(fileName)}`, 301);
  } else if (isServable(storage)) {
    serve = (request, reply, fileName) => proxy(storage, request, reply, fileName);
  } else {
    throw new Error(`The media routes cannot serve from ${storage.description}`);
  }

  app.route<{ Params: { fileName: string } }>({
    method: ['GET', 'HEAD'],
    url: '/media/:fileName',
    handler: async (request, reply) => {
      const { fileName } = request.params;
      if (!fileNamePattern.test(fileName) || fileName.includes('..')) throw new AppError('media.not_found');
      return serve(request, reply, fileName);
    },
  });
  return Promise.resolve();
}

function isServable(storage: MediaStorage): storage is ServableMediaStorage {
  return 'stat' in storage && 'read' in storage;
}

/** Answers from an object store with the same rules as the filesystem: ETag/304, one range (206), 416 or the whole file. */
async function proxy(
  storage: ServableMediaStorage,
  request: FastifyRequest,
  reply: FastifyReply,
  fileName: string,
): Promise<FastifyReply> {
  const object = await storage.stat(fileName);
  if (!object) throw new AppError('media.not_found');
  reply.header('accept-ranges', 'bytes').header('cache-control', immutableCacheControl);
  if (object.etag !== null) reply.header('etag', object.etag);
  if (object.lastModified !== null) reply.header('last-modified', object.lastModified.toUTCString());
  const ifNoneMatch = request.headers['if-none-match'];
  if (object.etag !== null && ifNoneMatch !== undefined && ifNoneMatchMatches(ifNoneMatch, object.etag))
    return reply.code(304).send();

  // If-Range with another validator asks for the whole (changed) file; ours never change, but honour it.
  const ifRange = request.headers['if-range'];
  const rangeHeader = ifRange === undefined || ifRange === object.etag ? request.headers.range : undefined;
  const asked = parseRangeHeader(rangeHeader, object.size);
  if (asked.kind === 'unsatisfiable') {
    reply.header('content-range', `bytes */${object.size}`);
    throw new AppError('media.range_not_satisfiable');
  }
  const range = asked.kind === 'part' ? { start: asked.start, end: asked.end } : undefined;
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${object.size}`);
  reply
    .type(object.contentType ?? 'application/octet-stream')
    .header('content-length', range ? range.end - range.start + 1 : object.size);
  if (request.method === 'HEAD') return reply.send();
  return reply.send(await storage.read(fileName, range));
}
