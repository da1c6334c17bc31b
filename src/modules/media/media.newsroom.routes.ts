import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Db } from '../../db/index.ts';
import { scratchDirectory } from '../../scratch.ts';
import { AppError } from '../../errors.ts';
import type { SiteContext } from '../../ui/layout.ts';
import { csrfField, type NewsroomAuth } from '../users/index.ts';
import { hasRole } from '../users/index.ts';
import type { UserRow } from '../users/index.ts';
import { type MediaInArticles, MediaNewsroomService } from './media.newsroom.service.ts';
import { libraryPage, mediaPage } from './media.pages.ts';
import { clipFormSchema, idParamSchema, parseTimecode, uploadFieldsSchema } from './media.schema.ts';
import { mediaUrl } from './media.service.ts';
import type { MediaStorage } from './media.storage.ts';
import type { ClipJobRow } from './media.table.ts';
import { refuseOversizedRequest, registerUploadParser, uploadOf, type UploadLimits } from './media.upload.ts';

export interface MediaNewsroomRoutesDeps {
  db: Db;
  siteUrl: string;
  /** The publication's settings, sections and assets for a page (the public site loads them). */
  site: () => Promise<SiteContext>;
  now: () => Date;
  auth: NewsroomAuth;
  storage: MediaStorage;
  dataDir: string;
  limits: { image: number; video: number; imagePixels: number; imageJobsPerUser: number };
  /** The article editor: captions and deletion of media that articles show go through its rules. */
  articles: MediaInArticles;
}

/** Caption files are small text; a megabyte is hours of subtitles. */
const captionsLimit = 1024 * 1024;
const htmlType = 'text/html; charset=utf-8';

function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** An error the form shows next to itself (bad input), rather than on an error page. */
function isFormError(error: unknown): error is AppError {
  return error instanceof AppError && error.status >= 400 && error.status < 500 && !error.code.startsWith('auth.');
}

function clipJson(job: ClipJobRow) {
  return {
    id: job.id,
    status: job.status,
    progress: job.progress,
    error: job.error,
    result:
      job.result_media_id === null ? null : { id: job.result_media_id, page: `/newsroom/media/${job.result_media_id}` },
  };
}

/**
 * The newsroom's media routes under /newsroom/media: the library and upload, one file's page, delete,
 * captions, snippet jobs and their JSON status. Registered as its own plugin so the streaming multipart
 * parser applies here only. CSRF and no-store come from `installNewsroomGuards`; sign-in and role are
 * checked in `onRequest` for uploads, so nothing is read from a visitor who may not upload.
 */
export function mediaNewsroomRoutes(app: FastifyInstance, deps: MediaNewsroomRoutesDeps): Promise<void> {
  const { auth } = deps;
  const limits: UploadLimits = { image: deps.limits.image, video: deps.limits.video, captions: captionsLimit };
  const tmpDir = scratchDirectory(deps.dataDir);
  const media = new MediaNewsroomService({
    db: deps.db,
    storage: deps.storage,
    articles: deps.articles,
    tmpDir,
    now: deps.now,
    imageLimits: { maxPixels: deps.limits.imagePixels, jobsPerUser: deps.limits.imageJobsPerUser },
  });
  registerUploadParser(app, { tmpDir, limits, csrfField });

  const { site } = deps;
  const signedIn = async (request: FastifyRequest): Promise<UserRow> => {
    const current = await auth.currentUser(request);
    if (!current) throw new AppError('auth.required');
    return current.user;
  };
  const contributor = auth.requireRole('contributor');
  // Before the body is read: a visitor who is not signed in never gets a byte spooled.
  const uploadGuards: onRequestAsyncHookHandler[] = [contributor, refuseOversizedRequest(limits)];

  const showLibrary = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { error?: string; notice?: string; alt?: string; decorative?: boolean } = {},
    status = 200,
  ) => {
    const user = await signedIn(request);
    const body = libraryPage(await site(), {
      user,
      csrf: await auth.csrfTokenFor(request, reply),
      entries: await media.library(),
      limits,
      ...extra,
    });
    return reply.code(status).type(htmlType).send(body);
  };

  const showMedia = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    extra: { error?: string; notice?: string; start?: string; end?: string } = {},
    status = 200,
  ) => {
    const user = await signedIn(request);
    const entry = await media.entry(id);
    const canDelete = entry.row.uploaded_by === user.id || hasRole(user.role, 'editor');
    const jobs = entry.row.kind === 'video' ? await media.clipJobs(id) : [];
    const body = mediaPage(await site(), {
      user,
      csrf: await auth.csrfTokenFor(request, reply),
      entry,
      jobs,
      canDelete,
      ...extra,
    });
    return reply.code(status).type(htmlType).send(body);
  };

  const parseId = (params: unknown): number => {
    const parsed = idParamSchema.safeParse(params);
    if (!parsed.success) throw new AppError('media.not_found');
    return parsed.data.id;
  };

  app.get('/media', { preHandler: contributor }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    return showLibrary(request, reply, query.deleted === '1' ? { notice: 'Deleted.' } : {});
  });

  app.post('/media', { onRequest: uploadGuards, preHandler: contributor }, async (request, reply) => {
    const user = await signedIn(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const typedAlt = typeof body.alt === 'string' ? body.alt.slice(0, 500) : '';
    try {
      const fields = uploadFieldsSchema.safeParse(body);
      if (!fields.success) throw new AppError('media.invalid_alt');
      const upload = uploadOf(request);
      if (!upload) throw new AppError('media.no_file');
      const row = await media.storeUpload(upload, {
        alt: fields.data.alt,
        decorative: fields.data.decorative === 'on',
        user,
      });
      if (wantsJson(request)) {
        return reply.code(201).send({
          id: row.id,
          kind: row.kind,
          page: `/newsroom/media/${row.id}`,
          url: mediaUrl(row.file_name),
          name: row.original_name,
        });
      }
      return reply.redirect(`/newsroom/media/${row.id}?uploaded=1`, 303);
    } catch (error) {
      if (!isFormError(error) || wantsJson(request)) throw error;
      return showLibrary(
        request,
        reply,
        { error: error.message, alt: typedAlt, decorative: body.decorative === 'on' },
        error.status,
      );
    }
  });

  app.get('/media/:id', { preHandler: contributor }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const notice =
      query.uploaded === '1'
        ? 'Uploaded.'
        : query.captions === '1'
          ? 'Captions attached.'
          : query.clip
            ? 'Snippet queued: the worker will cut it shortly.'
            : undefined;
    return showMedia(request, reply, parseId(request.params), notice ? { notice } : {});
  });

  app.post('/media/:id/delete', { preHandler: contributor, bodyLimit: 16 * 1024 }, async (request, reply) => {
    await media.delete(parseId(request.params), await signedIn(request));
    if (wantsJson(request)) return reply.code(204).send();
    return reply.redirect('/newsroom/media?deleted=1', 303);
  });

  app.post('/media/:id/captions', { onRequest: uploadGuards, preHandler: contributor }, async (request, reply) => {
    const id = parseId(request.params);
    const user = await signedIn(request);
    try {
      const upload = uploadOf(request);
      if (!upload) throw new AppError('media.no_file');
      await media.attachCaptions(id, upload, user);
      if (wantsJson(request)) return reply.code(201).send({ id });
      return reply.redirect(`/newsroom/media/${id}?captions=1`, 303);
    } catch (error) {
      if (!isFormError(error) || wantsJson(request) || (error instanceof AppError && error.code === 'media.not_found'))
        throw error;
      const message =
        error.code === 'media.unsupported_type' || error.code === 'media.svg_refused'
          ? 'That is not a WebVTT file: a caption file must start with "WEBVTT".'
          : error.message;
      return showMedia(request, reply, id, { error: message }, error.status);
    }
  });

  app.post('/media/:id/clips', { preHandler: contributor, bodyLimit: 16 * 1024 }, async (request, reply) => {
    const id = parseId(request.params);
    const user = await signedIn(request);
    const form = clipFormSchema.safeParse(request.body ?? {});
    const start = form.success ? parseTimecode(form.data.start) : null;
    const end = form.success ? parseTimecode(form.data.end) : null;
    try {
      if (start === null || end === null) throw new AppError('media.bad_clip_times');
      const jobId = await media.requestClip(id, start, end, user);
      if (wantsJson(request)) return reply.code(202).send(clipJson(await media.clipJob(jobId)));
      return reply.redirect(`/newsroom/media/${id}?clip=${jobId}#snippet-heading`, 303);
    } catch (error) {
      if (!isFormError(error) || wantsJson(request) || error.code === 'media.not_found') throw error;
      return showMedia(
        request,
        reply,
        id,
        { error: error.message, ...(form.success ? { start: form.data.start, end: form.data.end } : {}) },
        error.status,
      );
    }
  });

  app.get('/media/clips/:id', { preHandler: contributor }, async (request, reply) => {
    const job = await media.clipJob(parseId(request.params));
    return reply.type('application/json; charset=utf-8').send(clipJson(job));
  });
  return Promise.resolve();
}
