import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import type { SiteContext } from '../../ui/layout.ts';
import { getSiteSettings } from '../settings/index.ts';
import type { CurrentUser, NewsroomAuth } from '../users/index.ts';
import { hasRole } from '../users/index.ts';
import { ArticleEditor, ArticleFieldError, canPublish } from './articles.editor.service.ts';
import {
  articleListPage,
  diffPage,
  editorPage,
  type FormValues,
  formValuesOf,
  revisionsPage,
} from './articles.pages.ts';
import {
  articleFormSchema,
  diffQuerySchema,
  type FieldErrors,
  fieldErrors,
  idParamSchema,
  listQuerySchema,
  previewSchema,
  revisionParamSchema,
  typedValues,
} from './articles.schema.ts';
import type { ArticleRow } from './articles.table.ts';

export interface ArticleRoutesDeps {
  db: Db;
  config: Pick<Config, 'siteUrl'>;
  /** The publication's settings, sections and assets for a page (the public site loads them). */
  site: () => Promise<SiteContext>;
  now: () => Date;
  auth: NewsroomAuth;
  /** Called after any change readers can see; app.ts empties the page cache with it. */
  contentChanged: () => Promise<void>;
}

/** A long article, URL-encoded (non-ASCII letters take 6–9 bytes each), fits; anything much larger is a 413. */
const editorBodyLimit = 4 * 1024 * 1024;
const htmlType = 'text/html; charset=utf-8';

const savedQuerySchema = z.object({
  saved: z.enum(['saved', 'published', 'scheduled', 'unpublished', 'restored']).optional().catch(undefined),
});
const savedNotices = {
  saved: 'Saved.',
  published: 'Published: readers can see it now.',
  scheduled: 'Scheduled: the worker publishes it at the time given.',
  unpublished: 'Unpublished: its address now answers “not found”.',
  restored: 'The revision is restored, as a new revision.',
} as const;

const savedEvents = { save: 'saved', publish: 'published', schedule: 'scheduled', unpublish: 'unpublished' } as const;

function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

function parseParams<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('article.not_found');
  return parsed.data;
}

/**
 * The newsroom's article editor under /newsroom/articles. CSRF and no-store come from the newsroom guards;
 * every role rule is checked again in ArticleEditor, whatever the page showed.
 */
export function articleRoutes(app: FastifyInstance, deps: ArticleRoutesDeps): Promise<void> {
  const { auth, db } = deps;
  const editor = new ArticleEditor({
    db,
    now: deps.now,
    contentChanged: deps.contentChanged,
    timeZone: async () => (await getSiteSettings(db)).timeZone,
    locale: async () => (await getSiteSettings(db)).locale,
  });
  const { site } = deps;
  const signedIn = async (request: FastifyRequest): Promise<CurrentUser> => {
    const current = await auth.currentUser(request);
    if (!current) throw new AppError('auth.required');
    return current;
  };
  const writer = { preHandler: auth.requireRole('contributor') };
  const writerPost = { ...writer, bodyLimit: editorBodyLimit };

  const showEditor = async (
    request: FastifyRequest,
    reply: FastifyReply,
    state: {
      article?: ArticleRow | undefined;
      values: FormValues;
      errors?: FieldErrors;
      notice?: string | undefined;
      status?: number;
    },
  ) => {
    const current = await signedIn(request);
    const [context, choices] = await Promise.all([site(), editor.choices()]);
    const body = typeof state.values.body === 'string' ? state.values.body : '';
    const page = editorPage(context, {
      user: current.user,
      csrf: await auth.csrfTokenFor(request, reply),
      article: state.article,
      values: state.values,
      errors: state.errors ?? {},
      choices,
      canPublish: canPublish(current.user),
      canCreateTags: hasRole(current.user.role, 'editor'),
      canUseHtmlCards: hasRole(current.user.role, 'editor'),
      preview: editor.preview(body),
      notice: state.notice,
    });
    return reply
      .code(state.status ?? 200)
      .type(htmlType)
      .send(page);
  };

  app.get('/articles', writer, async (request, reply) => {
    const current = await signedIn(request);
    const { status } = listQuerySchema.parse(request.query ?? {});
    const list = await editor.list(current.user, status);
    return reply
      .type(htmlType)
      .send(
        articleListPage(
          await site(),
          { user: current.user, csrf: await auth.csrfTokenFor(request, reply) },
          { ...list, status },
        ),
      );
  });

  app.get('/articles/new', writer, async (request, reply) => {
    const current = await signedIn(request);
    const own = await editor.ownAuthor(current.user);
    return showEditor(request, reply, { values: { authors: own ? [String(own.id)] : [] } });
  });

  /** The form's POST, new (`id` null) or existing: save and apply the pressed button, or show a preview. */
  const submit = async (request: FastifyRequest, reply: FastifyReply, id: number | null) => {
    const current = await signedIn(request);
    const article = id === null ? undefined : (await editor.open(current.user, id)).row;
    const values = typedValues(request.body);
    const parsed = articleFormSchema.safeParse(request.body ?? {});
    if (!parsed.success)
      return showEditor(request, reply, { article, values, errors: fieldErrors(parsed.error), status: 400 });
    if (parsed.data.action === 'preview')
      return showEditor(request, reply, { article, values, notice: 'This is a preview; nothing is saved yet.' });
    try {
      const saved = await editor.save(current.user, id, parsed.data);
      return reply.redirect(`/newsroom/articles/${saved.id}?saved=${savedEvents[parsed.data.action]}`, 303);
    } catch (error) {
      if (error instanceof ArticleFieldError) {
        // A conflict hands back what was typed, now based on the newest revision: saving again is a
        // deliberate overwrite by someone who has been told.
        const latest = id === null ? undefined : (await editor.open(current.user, id)).row;
        const kept =
          error.code === 'article.conflict' && latest ? { ...values, revision: String(latest.revision) } : values;
        return showEditor(request, reply, {
          article: latest ?? article,
          values: kept,
          errors: { [error.field]: error.message },
          status: error.status,
        });
      }
      throw error;
    }
  };

  app.post('/articles', writerPost, (request, reply) => submit(request, reply, null));

  app.get('/articles/:id', writer, async (request, reply) => {
    const current = await signedIn(request);
    const { id } = parseParams(idParamSchema, request.params);
    const { row, tagIds, authorIds } = await editor.open(current.user, id);
    const context = await site();
    const saved = savedQuerySchema.parse(request.query ?? {}).saved;
    return showEditor(request, reply, {
      article: row,
      values: formValuesOf(context, row, tagIds, authorIds),
      notice: saved ? savedNotices[saved] : undefined,
    });
  });

  app.post('/articles/:id', writerPost, (request, reply) =>
    submit(request, reply, parseParams(idParamSchema, request.params).id),
  );

  /** The editor's script: saves the draft as it stands (creating it on the first autosave of a new article); JSON. */
  const autosave = async (request: FastifyRequest, reply: FastifyReply, id: number | null) => {
    const current = await signedIn(request);
    const parsed = articleFormSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error);
      return reply.code(400).send({
        error: {
          code: 'article.invalid',
          message: Object.values(errors)[0] ?? 'Please check the form.',
          fields: errors,
        },
      });
    }
    try {
      const saved = await editor.save(current.user, id, parsed.data, { autosave: true });
      return reply.send({
        ...saved,
        editUrl: `/newsroom/articles/${saved.id}`,
        autosaveUrl: `/newsroom/articles/${saved.id}/autosave`,
      });
    } catch (error) {
      if (error instanceof ArticleFieldError) {
        // A conflict says where to compare this tab's revision with the newest one (the revisions diff).
        const compareUrl =
          error.code === 'article.conflict' && id !== null
            ? await compareLink(current, id, parsed.data.revision)
            : undefined;
        return reply.code(error.status).send({
          error: {
            code: error.code,
            message: error.message,
            fields: { [error.field]: error.message },
            ...(compareUrl ? { compareUrl } : {}),
          },
        });
      }
      throw error;
    }
  };
  /** The diff between the revision a page started from and the newest, or the revision list if that one is gone. */
  const compareLink = async (current: CurrentUser, id: number, base: number | null): Promise<string> => {
    const { revisions } = await editor.revisions(current.user, id);
    const from = revisions.find((r) => r.revision === base);
    const to = revisions[0];
    return from && to && from.id !== to.id
      ? `/newsroom/articles/${id}/revisions/diff?from=${from.id}&to=${to.id}`
      : `/newsroom/articles/${id}/revisions`;
  };
  app.post('/articles/autosave', writerPost, (request, reply) => autosave(request, reply, null));
  app.post('/articles/:id/autosave', writerPost, (request, reply) =>
    autosave(request, reply, parseParams(idParamSchema, request.params).id),
  );

  /** The editor's script: the body as readers would see it, sanitised exactly as the public page does. */
  app.post('/articles/preview', writerPost, async (request, reply) => {
    const parsed = previewSchema.safeParse(request.body ?? {});
    if (!parsed.success) throw new AppError('article.invalid', parsed.error.issues[0]?.message);
    const body = editor.preview(parsed.data.body);
    return wantsJson(request) ? reply.send({ html: body }) : reply.type(htmlType).send(body);
  });

  app.get('/articles/:id/revisions', writer, async (request, reply) => {
    const current = await signedIn(request);
    const { id } = parseParams(idParamSchema, request.params);
    const { article, revisions } = await editor.revisions(current.user, id);
    const saved = savedQuerySchema.parse(request.query ?? {}).saved;
    const meta = {
      user: current.user,
      csrf: await auth.csrfTokenFor(request, reply),
      notice: saved ? savedNotices[saved] : undefined,
    };
    return reply.type(htmlType).send(revisionsPage(await site(), meta, article, revisions));
  });

  app.get('/articles/:id/revisions/diff', writer, async (request, reply) => {
    const current = await signedIn(request);
    const { id } = parseParams(idParamSchema, request.params);
    const query = diffQuerySchema.safeParse(request.query ?? {});
    if (!query.success) throw new AppError('request.bad_query', 'Choose two revisions to compare.');
    const { article, from, to, fields } = await editor.diff(current.user, id, query.data.from, query.data.to);
    return reply
      .type(htmlType)
      .send(
        diffPage(
          await site(),
          { user: current.user, csrf: await auth.csrfTokenFor(request, reply) },
          article,
          from,
          to,
          fields,
        ),
      );
  });

  app.post('/articles/:id/revisions/:revisionId/restore', writer, async (request, reply) => {
    const current = await signedIn(request);
    const { id, revisionId } = parseParams(revisionParamSchema, request.params);
    await editor.restore(current.user, id, revisionId);
    return reply.redirect(`/newsroom/articles/${id}/revisions?saved=restored`, 303);
  });

  return Promise.resolve();
}
