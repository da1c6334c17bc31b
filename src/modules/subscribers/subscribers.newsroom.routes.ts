import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../db/index.ts';
import { AppError, isDiskFull } from '../../errors.ts';
import { scratchDirectory } from '../../scratch.ts';
import type { NewsroomAuth } from '../users/index.ts';
import type { NewsroomPageRenderer } from '../users/index.ts';
import { exportCsvStringifier, exportSubscribers } from './subscribers.csv.ts';
import type { SubscriberStatus } from './subscribers.table.ts';
import { checkCsvUpload, type SubscriberImports } from './subscribers.imports.ts';
import {
  importMain,
  importProgressJson,
  subscriberDetailMain,
  subscriberListMain,
  subscriberStatuses,
} from './subscribers.newsroom.pages.ts';
import { subscriberGrowth } from './subscribers.service.ts';
import {
  countSubscribersByStatus,
  findSubscriberById,
  listConsentEvents,
  listSubscribersPage,
} from './subscribers.repository.ts';

export interface SubscriberNewsroomDeps {
  db: Db;
  dataDir: string;
  now: () => Date;
  auth: NewsroomAuth;
  render: NewsroomPageRenderer;
  imports: SubscriberImports;
  /** Largest CSV upload accepted (413 past it). */
  maxImportBytes?: number;
}

/** 32 MB holds about half a million rows of a typical export. */
export const defaultMaxImportBytes = 32 * 1024 * 1024;
const pageSize = 50;
const growthDays = 30;

const listQuerySchema = z.object({
  q: z.string().trim().max(254).optional().default(''),
  status: z.union([z.enum(subscriberStatuses as [string, ...string[]]), z.literal('')]).optional(),
  before: z.coerce.number().int().positive().optional(),
});
const idParamsSchema = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});
const importIdSchema = z.object({ id: z.string().regex(/^[1-9]\d{0,9}(\.json)?$/) });
const importFormSchema = z.object({
  source: z.string().max(1000).optional(),
});

/** A spooled upload, set as the `file` field's value by `onFile`. */
interface SpooledFile {
  path: string;
  fileName: string;
  size: number;
  /** Set once an import owns the file (it deletes it when done); otherwise it is deleted after the response. */
  claimed: boolean;
}

/**
 * Reads the import form: its text fields, and its one `file` part streamed to a file under `spoolDir`. Reading
 * stops at the first byte over `maxBytes` (413, the partial file removed); a malformed body is a 400.
 */
function parseImportUpload(
  headers: IncomingHttpHeaders,
  payload: Readable,
  spoolDir: string,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers,
      defParamCharset: 'utf8',
      limits: { files: 1, fields: 4, fieldSize: 4096, parts: 6, fileSize: maxBytes, headerPairs: 50 },
    });
  } catch {
    return Promise.reject(new AppError('subscriber.import_bad_upload'));
  }
  return new Promise((resolve, reject) => {
    const body: Record<string, unknown> = {};
    let settled = false;
    let spooling: Promise<void> = Promise.resolve();
    let target: string | undefined;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      // The rest of the body is not read: the answer closes the connection instead (onSend below).
      payload.unpipe(parser);
      payload.pause();
      const removed = target ? rm(target, { force: true }) : Promise.resolve();
      void removed.finally(() =>
        reject(
          error instanceof AppError
            ? error
            : isDiskFull(error)
              ? new AppError('storage.full', undefined, { cause: error })
              : new AppError('subscriber.import_bad_upload'),
        ),
      );
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new AppError('subscriber.import_bad_upload'));
      if (name !== '__proto__' && name !== 'file') body[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || target !== undefined) {
        stream.resume();
        return;
      }
      target = path.join(spoolDir, `${randomBytes(12).toString('hex')}.csv`);
      const value: SpooledFile = {
        path: target,
        fileName: (info.filename ?? '').slice(0, 200),
        size: 0,
        claimed: false,
      };
      const file = target;
      spooling = (async () => {
        await mkdir(spoolDir, { recursive: true });
        await pipeline(stream, createWriteStream(file));
        if (stream.truncated) throw new AppError('subscriber.import_too_large');
        value.size = (await stat(file)).size;
        body.file = value;
      })().catch((error: unknown) => {
        stream.resume();
        fail(error);
      });
    });
    parser.on('partsLimit', () => fail(new AppError('subscriber.import_bad_upload')));
    parser.on('fieldsLimit', () => fail(new AppError('subscriber.import_bad_upload')));
    parser.on('filesLimit', () => fail(new AppError('subscriber.import_bad_upload')));
    parser.on('error', fail);
    parser.on('close', () => {
      void spooling.then(() => {
        if (settled) return;
        settled = true;
        resolve(body);
      });
    });
    payload.on('error', fail);
    payload.pipe(parser);
  });
}

function spooled(request: FastifyRequest): SpooledFile | undefined {
  const file = (request.body as { file?: unknown } | undefined)?.file;
  return file && typeof file === 'object' && 'path' in file ? (file as SpooledFile) : undefined;
}

/**
 * The newsroom's subscriber screens (editor and up): the list with search, status filter and counts, one
 * subscriber's consent record, the CSV export download and the CSV import upload with its progress.
 * Registered as its own plugin so the multipart parser serves only the import upload.
 */
export function subscriberNewsroomRoutes(app: FastifyInstance, deps: SubscriberNewsroomDeps): Promise<void> {
  const { db, auth, render, imports } = deps;
  const editor = auth.requireRole('editor');
  const maxImportBytes = deps.maxImportBytes ?? defaultMaxImportBytes;
  const spoolDir = scratchDirectory(deps.dataDir);

  // Only this plugin's routes parse multipart (the import upload): fields become the body (so the CSRF guard
  // finds `_csrf`), and the file is spooled to disk while it arrives, so a large list never sits in memory.
  app.addContentTypeParser('multipart/form-data', (request, payload, done) => {
    parseImportUpload(request.headers, payload, spoolDir, maxImportBytes).then(
      (body) => done(null, body),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error)), undefined),
    );
  });

  // A refused upload closes the connection rather than reading the rest of a large body.
  app.addHook('onSend', async (request, reply) => {
    if (reply.statusCode >= 400 && String(request.headers['content-type'] ?? '').startsWith('multipart/form-data'))
      reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request) => {
    const file = spooled(request);
    if (file && !file.claimed) await rm(file.path, { force: true });
  });

  const listPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    filter: { query: string; status: SubscriberStatus | undefined; before: number | undefined },
    importForm: { error?: string; source?: string; status?: number } = {},
  ) => {
    const [page, counts, points] = await Promise.all([
      listSubscribersPage(db, filter, filter.before, pageSize),
      countSubscribersByStatus(db, filter.query),
      subscriberGrowth(db, deps.now(), growthDays),
    ]);
    const rows = page.slice(0, pageSize);
    return render(
      request,
      reply,
      {
        title: 'Subscribers',
        path: '/newsroom/subscribers',
        scripts: ['newsletter.js'],
        ...(importForm.status ? { status: importForm.status } : {}),
      },
      ({ csrf }) =>
        subscriberListMain({
          csrf,
          ...filter,
          counts,
          rows,
          nextBefore: page.length > pageSize ? rows.at(-1)?.id : undefined,
          paged: filter.before !== undefined,
          growth: points,
          maxImportMegabytes: Math.floor(maxImportBytes / (1024 * 1024)),
          error: importForm.error,
          source: importForm.source,
        }),
    );
  };

  app.get('/subscribers', { preHandler: editor }, async (request, reply) => {
    const parsed = listQuerySchema.safeParse(request.query ?? {});
    if (!parsed.success) throw new AppError('request.bad_query');
    const status = parsed.data.status ? (parsed.data.status as SubscriberStatus) : undefined;
    return listPage(request, reply, { query: parsed.data.q, status, before: parsed.data.before });
  });

  app.get('/subscribers/export.csv', { preHandler: editor }, async (_request, reply) => {
    const csv = exportCsvStringifier();
    const day = deps.now().toISOString().slice(0, 10);
    reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="subscribers-${day}.csv"`);
    // Written while the response streams out, with backpressure, 1,000 rows of the database at a time.
    void exportSubscribers(db, async (row) => {
      if (!csv.write(row)) await once(csv, 'drain');
    }).then(
      () => csv.end(),
      (error: unknown) => csv.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    return reply.send(csv);
  });

  app.get('/subscribers/:id', { preHandler: editor }, async (request, reply) => {
    const params = idParamsSchema.safeParse(request.params);
    if (!params.success) throw new AppError('subscriber.not_found');
    const subscriber = await findSubscriberById(db, params.data.id);
    if (!subscriber) throw new AppError('subscriber.not_found');
    const events = await listConsentEvents(db, subscriber.id);
    return render(request, reply, { title: subscriber.email, path: `/newsroom/subscribers/${subscriber.id}` }, () =>
      subscriberDetailMain(subscriber, events),
    );
  });

  // The role is checked on request, before a byte of the upload is spooled; CSRF once the fields are parsed.
  app.post(
    '/subscribers/import',
    { onRequest: editor, bodyLimit: maxImportBytes + 64 * 1024 },
    async (request, reply) => {
      const current = await auth.currentUser(request);
      if (!current) throw new AppError('auth.required');
      if (!String(request.headers['content-type'] ?? '').startsWith('multipart/form-data'))
        throw new AppError('subscriber.import_file_required');
      const form = importFormSchema.safeParse(request.body ?? {});
      const source = form.success ? (form.data.source ?? '').replace(/[\x00-\x1f\x7f]+/g, ' ').trim() : '';
      const file = spooled(request);
      const again = (error: string, status: number) =>
        listPage(request, reply, { query: '', status: undefined, before: undefined }, { error, source, status });
      try {
        if (!source) throw new AppError('subscriber.import_source_required');
        if (!file || file.size === 0) throw new AppError('subscriber.import_file_required');
        await checkCsvUpload(file.path);
      } catch (error) {
        if (error instanceof AppError) return again(error.message, error.status);
        throw error;
      }
      file.claimed = true;
      const id = await imports.start({
        path: file.path,
        fileName: file.fileName,
        size: file.size,
        source,
        startedBy: current.user.email,
      });
      return reply.redirect(`/newsroom/subscribers/imports/${id}`, 303);
    },
  );

  app.get('/subscribers/imports/:id', { preHandler: editor }, async (request, reply) => {
    const params = importIdSchema.safeParse(request.params);
    if (!params.success) throw new AppError('subscriber.import_not_found');
    const asJson = params.data.id.endsWith('.json');
    const progress = await imports.get(Number.parseInt(params.data.id, 10));
    if (asJson) return reply.type('application/json; charset=utf-8').send(importProgressJson(progress));
    return render(
      request,
      reply,
      {
        title: `Import of ${progress.fileName}`,
        path: `/newsroom/subscribers/imports/${progress.id}`,
        scripts: ['newsletter.js'],
      },
      () => importMain(progress),
    );
  });
  return Promise.resolve();
}
