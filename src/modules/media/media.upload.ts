import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, isDiskFull } from '../../errors.ts';
import type { MediaKind } from './media.table.ts';

/** The most bytes of each kind an upload may have (MEDIA_MAX_IMAGE_BYTES, MEDIA_MAX_VIDEO_BYTES; captions fixed). */
export interface UploadLimits {
  image: number;
  video: number;
  captions: number;
}

/** What an upload really is, decided from its first bytes. */
export interface SniffedType {
  kind: MediaKind;
  mimeType: string;
  extension: string;
}

/** An uploaded file spooled to a temporary file under DATA_DIR/tmp (removed when the response is sent). */
export interface SpooledUpload extends SniffedType {
  tempPath: string;
  /** As the browser sent it: only ever used, reduced by safeBaseName, for the readable part of a stored name. */
  originalName: string;
  byteSize: number;
}

/** Types we accept, by the type the magic bytes show; anything else is refused whatever its name says. */
const accepted: Record<string, SniffedType> = {
  'image/jpeg': { kind: 'image', mimeType: 'image/jpeg', extension: 'jpg' },
  'image/png': { kind: 'image', mimeType: 'image/png', extension: 'png' },
  'image/webp': { kind: 'image', mimeType: 'image/webp', extension: 'webp' },
  'image/avif': { kind: 'image', mimeType: 'image/avif', extension: 'avif' },
  'image/gif': { kind: 'image', mimeType: 'image/gif', extension: 'gif' },
  'video/mp4': { kind: 'video', mimeType: 'video/mp4', extension: 'mp4' },
  'video/webm': { kind: 'video', mimeType: 'video/webm', extension: 'webm' },
  'video/quicktime': { kind: 'video', mimeType: 'video/quicktime', extension: 'mov' },
};

/** Bytes read before deciding the type: enough for file-type's signatures (it wants 4,100) with room to spare. */
const sniffBytes = 16 * 1024;

const kindNames: Record<MediaKind, string> = { image: 'images', video: 'videos', captions: 'caption files' };

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`
    : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

function tooLarge(kind: MediaKind | null, limits: UploadLimits): AppError {
  if (!kind)
    return new AppError(
      'media.too_large',
      `This file is larger than the largest upload we accept (${formatBytes(Math.max(limits.image, limits.video))}).`,
    );
  return new AppError(
    'media.too_large',
    `This file is too large: ${kindNames[kind]} may be at most ${formatBytes(limits[kind])}.`,
  );
}

/**
 * Decides the type from the content: WebVTT by its required `WEBVTT` signature (it is text, so magic-byte
 * libraries do not know it), everything else by file-type's magic bytes. The name and the client's
 * Content-Type are never consulted. SVG is refused: it is XML that may carry scripts and links, which would
 * run on our origin if someone opened the file directly.
 */
export async function sniffType(head: Uint8Array): Promise<SniffedType> {
  const text = Buffer.from(head.subarray(0, 512))
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  if (/^WEBVTT(?:[ \t\r\n]|$)/.test(text)) return { kind: 'captions', mimeType: 'text/vtt', extension: 'vtt' };
  const detected = await (await import('file-type')).fileTypeFromBuffer(head);
  const type = detected ? accepted[detected.mime] : undefined;
  if (type) return type;
  if (detected?.mime === 'image/svg+xml' || /<svg[\s>]/i.test(Buffer.from(head).toString('utf8')))
    throw new AppError('media.svg_refused');
  throw new AppError('media.unsupported_type');
}

/** Upload requests in flight: their parsed file, and temp files to remove once the response is sent. */
const uploads = new WeakMap<FastifyRequest, { file: SpooledUpload | null; temporary: string[] }>();

/** The file spooled for this request by the multipart parser, or null when the form had none. */
export function uploadOf(request: FastifyRequest): SpooledUpload | null {
  return uploads.get(request)?.file ?? null;
}

export interface UploadParserOptions {
  tmpDir: string;
  limits: UploadLimits;
  /** The CSRF form field: it must come before the file (it does in our forms), else the file is not read. */
  csrfField: string;
}

/**
 * Registers, in the calling plugin's scope only, a streaming `multipart/form-data` parser: text fields
 * become the body (so the newsroom's CSRF guard finds `_csrf`), and the one file goes to a temporary file
 * chunk by chunk, never whole into memory. Its first bytes decide its type; reading stops at the first byte
 * over its kind's limit (413), or as soon as the type is refused (415), and the connection is then closed
 * rather than drained. A request whose Content-Length already exceeds every limit is refused before any
 * byte is read (see `refuseOversizedRequest`).
 */
export function registerUploadParser(app: FastifyInstance, options: UploadParserOptions): void {
  app.addContentTypeParser('multipart/form-data', (request, payload, done) => {
    const state = { file: null as SpooledUpload | null, temporary: [] as string[] };
    uploads.set(request, state);
    parseMultipart(request.headers, payload, options, state).then(
      (fields) => done(null, fields),
      // Removed at once: an aborted request may never reach onSend.
      (error: unknown) =>
        void removeTemporary(state).finally(() =>
          done(error instanceof Error ? error : new Error(String(error)), undefined),
        ),
    );
  });

  // Before the response leaves (so nothing outlives the request): the spooled file is removed, stored or
  // not; and a refused upload closes the connection instead of reading the rest of a large body.
  app.addHook('onSend', async (request, reply) => {
    const state = uploads.get(request);
    if (!state) return;
    await removeTemporary(state);
    if (reply.statusCode >= 400) reply.header('connection', 'close');
  });
  app.addHook('onRequestAbort', async (request) => {
    const state = uploads.get(request);
    if (state) await removeTemporary(state);
  });
}

function removeTemporary(state: { temporary: string[] }): Promise<unknown> {
  return Promise.all(state.temporary.map((file) => rm(file, { force: true })));
}

/** An onRequest hook for upload routes: a Content-Length over the largest limit is refused unread. */
export function refuseOversizedRequest(limits: UploadLimits) {
  // Multipart framing and the small text fields add a little to the file's own size.
  const ceiling = Math.max(limits.image, limits.video, limits.captions) + 64 * 1024;
  return (request: FastifyRequest): Promise<void> => {
    const length = Number(request.headers['content-length']);
    return Number.isFinite(length) && length > ceiling ? Promise.reject(tooLarge(null, limits)) : Promise.resolve();
  };
}

async function parseMultipart(
  headers: IncomingHttpHeaders,
  payload: Readable,
  options: UploadParserOptions,
  state: { file: SpooledUpload | null; temporary: string[] },
): Promise<Record<string, string>> {
  const { limits } = options;
  const maxFile = Math.max(limits.image, limits.video, limits.captions);
  const fields: Record<string, string> = {};
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers,
      defParamCharset: 'utf8',
      limits: { files: 1, fields: 30, parts: 32, fieldSize: 16 * 1024, fileSize: maxFile + 1, headerPairs: 50 },
    });
  } catch {
    throw new AppError('media.bad_upload');
  }

  return new Promise((resolve, reject) => {
    let settled = false;
    let fileWork: Promise<void> = Promise.resolve();
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      payload.unpipe(parser);
      payload.pause();
      reject(
        error instanceof AppError
          ? error
          : isDiskFull(error)
            ? new AppError('storage.full', undefined, { cause: error })
            : new AppError('media.bad_upload'),
      );
    };

    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new AppError('media.bad_upload'));
      if (name !== '__proto__') fields[name] = value;
    });
    parser.on('file', (_name, stream, info) => {
      if (state.file || settled) {
        stream.resume();
        return;
      }
      if (!fields[options.csrfField] && typeof headers['x-csrf-token'] !== 'string') {
        stream.resume();
        return fail(new AppError('auth.csrf'));
      }
      fileWork = spool(stream, info.filename ?? '', options, state).catch((error: unknown) => {
        stream.resume();
        fail(error);
      });
    });
    parser.on('partsLimit', () => fail(new AppError('media.bad_upload')));
    parser.on('fieldsLimit', () => fail(new AppError('media.bad_upload')));
    parser.on('error', (error) => fail(error));
    parser.on('close', () => {
      void fileWork.then(() => {
        if (settled) return;
        settled = true;
        resolve(fields);
      });
    });
    payload.on('error', fail);
    payload.pipe(parser);
  });
}

/** Writes one file part to a temporary file, deciding its type from the first bytes and enforcing its limit. */
async function spool(
  stream: Readable,
  filename: string,
  options: UploadParserOptions,
  state: { file: SpooledUpload | null; temporary: string[] },
): Promise<void> {
  await mkdir(options.tmpDir, { recursive: true });
  // A random name, never the client's: the file name takes no part in any path.
  const tempPath = path.join(options.tmpDir, `upload-${randomBytes(12).toString('hex')}`);
  state.temporary.push(tempPath);
  const handle = await open(tempPath, 'wx', 0o600);
  let head: Buffer[] = [];
  let headBytes = 0;
  let type: SniffedType | null = null;
  let size = 0;
  let limit = Math.max(options.limits.image, options.limits.video, options.limits.captions);
  const decide = async () => {
    const joined = Buffer.concat(head);
    head = [];
    if (joined.byteLength > 0) {
      type = await sniffType(joined);
      limit = options.limits[type.kind];
      if (size > limit) throw tooLarge(type.kind, options.limits);
      await handle.write(joined);
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge(type ? (type as SniffedType).kind : null, options.limits);
      if (type) {
        await handle.write(chunk);
        continue;
      }
      head.push(chunk);
      headBytes += chunk.byteLength;
      if (headBytes >= sniffBytes) await decide();
    }
    if ((stream as Readable & { truncated?: boolean }).truncated)
      throw tooLarge(type ? (type as SniffedType).kind : null, options.limits);
    if (!type) await decide();
  } finally {
    await handle.close();
  }
  if (size === 0 && filename === '') return; // the form's file field left empty
  if (size === 0 || !type) throw new AppError('media.empty_file');
  const sniffed: SniffedType = type;
  state.file = { ...sniffed, tempPath, originalName: filename.slice(0, 500), byteSize: size };
}
