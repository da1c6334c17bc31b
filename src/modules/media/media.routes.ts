import { stat } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import parseRange from 'range-parser';
import { AppError } from '../../errors.ts';
import { mediaDirectory } from './media.storage.ts';

/** Fingerprinted names only: letters, digits, dots, hyphens and underscores, no leading dot. */
const fileNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
/** One byte range (RFC 9110 §14.1.2): `bytes=first-last`, `bytes=first-` or `bytes=-suffix`. */
const singleRangePattern = /^bytes=(\d{1,15}-\d{0,15}|-\d{1,15})$/;

/** True when `range` is one well-formed range that overlaps a file of `size` bytes. */
function isSatisfiableSingleRange(range: string, size: number): boolean {
  if (!singleRangePattern.test(range.trim())) return false;
  const ranges = parseRange(size, range.trim(), { combine: false });
  return Array.isArray(ranges) && ranges.length === 1;
}

/**
 * Serves stored media with HTTP Range support (206 / 416), ETag and a year of immutable caching.
 * A Range header that is malformed or asks for several ranges is refused with 416: we do not send
 * multipart/byteranges, and RFC 9110 §14.2 lets a server reject an invalid ranges-specifier.
 */
export async function mediaRoutes(app: FastifyInstance, deps: { dataDir: string }): Promise<void> {
  await app.register(fastifyStatic, {
    root: mediaDirectory(deps.dataDir),
    serve: false,
    immutable: true,
    maxAge: '365d',
    etag: true,
    lastModified: true,
    acceptRanges: true,
    dotfiles: 'deny',
    index: false,
  });

  app.route<{ Params: { fileName: string } }>({
    method: ['GET', 'HEAD'],
    url: '/media/:fileName',
    handler: async (request, reply) => {
      const { fileName } = request.params;
      if (!fileNamePattern.test(fileName) || fileName.includes('..')) throw new AppError('media.not_found');
      const file = await stat(path.join(mediaDirectory(deps.dataDir), fileName)).catch(() => undefined);
      if (!file?.isFile()) throw new AppError('media.not_found');
      const range = request.headers.range;
      if (range !== undefined && !isSatisfiableSingleRange(range, file.size)) {
        reply.header('content-range', `bytes */${file.size}`);
        throw new AppError('media.range_not_satisfiable');
      }
      return reply.sendFile(fileName);
    },
  });
}
