import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import { listPublishedArticles } from '../articles/index.ts';
import type { MailTransport } from '../mail/index.ts';
import { subscriberCountsByStatus } from '../subscribers/index.ts';
import { normaliseEmail } from '../subscribers/index.ts';
import { subscriberGrowth } from '../subscribers/index.ts';
import type { NewsroomAuth } from '../users/index.ts';
import type { NewsroomPageRenderer } from '../users/index.ts';
import {
  composeMain,
  issueListMain,
  issueMain,
  issueProgressJson,
  sendConfirmMain,
} from './newsletters.newsroom.pages.ts';
import { mailPreviewCsp } from './newsletters.routes.ts';
import {
  createIssueFromArticleIds,
  getIssueProgress,
  getSendingHistory,
  listIssuesWithCounts,
  maxIssueArticles,
  type NewsletterDeps,
  renderStoredIssue,
  sendIssue,
  sendTestOfIssue,
} from './newsletters.service.ts';

export interface NewsletterNewsroomDeps {
  db: Db;
  siteUrl: string;
  now: () => Date;
  mail: MailTransport;
  newsletters: NewsletterDeps;
  auth: NewsroomAuth;
  render: NewsroomPageRenderer;
}

const formBodyLimit = 64 * 1024;
/** Articles offered in the compose form: the newest published ones. */
const composeChoices = 40;

const issueParamsSchema = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});
const articleId = z.coerce
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);
/** The compose form: picked article ids (one or many `articles` fields), `position_<id>` fields, a subject. */
const composeFormSchema = z
  .object({
    subject: z.string().max(1000).optional().default(''),
    articles: z
      .union([z.string(), z.array(z.string()).max(100)])
      .optional()
      .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
  })
  .passthrough();
const testFormSchema = z.object({ to: z.string().max(254) });

function issueId(params: unknown): number {
  const parsed = issueParamsSchema.safeParse(params);
  if (!parsed.success) throw new AppError('newsletter.issue_not_found');
  return parsed.data.id;
}

/** Picked ids in the editor's order: by position when given (then as listed), unknown text refused. */
function orderedPicks(form: z.infer<typeof composeFormSchema>): {
  ids: number[];
  positions: Map<number, number | undefined>;
} {
  const positions = new Map<number, number | undefined>();
  for (const value of form.articles) {
    const id = articleId.safeParse(value);
    if (!id.success) throw new AppError('newsletter.unknown_article');
    const raw = (form as Record<string, unknown>)[`position_${id.data}`];
    const position = typeof raw === 'string' && /^\d{1,2}$/.test(raw.trim()) ? Number(raw.trim()) : undefined;
    positions.set(id.data, position);
  }
  const listed = [...positions.keys()];
  const ids = listed
    .map((id, index) => ({ id, index, position: positions.get(id) ?? Number.POSITIVE_INFINITY }))
    .sort((a, b) => a.position - b.position || a.index - b.index)
    .map((p) => p.id);
  return { ids, positions };
}

/**
 * The newsroom's newsletter screens (editor and up): the issue list with delivery counts and the
 * subscribers chart, composing from published articles, the preview, a test copy, sending (after a
 * confirmation showing the recipient count) and the live progress with the history of an issue's sending.
 */
export function newsletterNewsroomRoutes(app: FastifyInstance, deps: NewsletterNewsroomDeps): Promise<void> {
  const { db, auth, render } = deps;
  const editor = auth.requireRole('editor');

  app.get('/newsletters', { preHandler: editor }, async (request, reply) => {
    const [issues, growth] = await Promise.all([listIssuesWithCounts(db, 50), subscriberGrowth(db, deps.now(), 30)]);
    return render(request, reply, { title: 'Newsletter', path: '/newsroom/newsletters' }, () =>
      issueListMain(issues, growth),
    );
  });

  const composePage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    form: { subject: string; picked: Map<number, number | undefined>; error?: string },
    status = 200,
  ) => {
    const articles = (await listPublishedArticles(db, {}, composeChoices, 0)).map((a) => ({
      id: a.id,
      title: a.title,
      publishedAt: a.published_at ?? '',
    }));
    return render(
      request,
      reply,
      { title: 'Compose an issue', path: '/newsroom/newsletters/new', status },
      ({ csrf }) => composeMain({ csrf, articles, ...form }),
    );
  };

  app.get('/newsletters/new', { preHandler: editor }, (request, reply) =>
    composePage(request, reply, { subject: '', picked: new Map() }),
  );

  app.post('/newsletters', { preHandler: editor, bodyLimit: formBodyLimit }, async (request, reply) => {
    const form = composeFormSchema.safeParse(request.body ?? {});
    if (!form.success) throw new AppError('newsletter.no_articles');
    let picked = new Map<number, number | undefined>();
    try {
      const picks = orderedPicks(form.data);
      picked = picks.positions;
      if (picks.ids.length > maxIssueArticles) throw new AppError('newsletter.too_many_articles');
      const issue = await createIssueFromArticleIds(db, deps.newsletters, {
        articleIds: picks.ids,
        subject: form.data.subject,
      });
      return reply.redirect(`/newsroom/newsletters/${issue.id}`, 303);
    } catch (error) {
      if (error instanceof AppError && error.code.startsWith('newsletter.')) {
        return composePage(
          request,
          reply,
          { subject: form.data.subject.slice(0, 200), picked, error: error.message },
          error.status,
        );
      }
      throw error;
    }
  });

  const issuePage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    extra: { notice?: string; error?: string; testTo?: string } = {},
    status = 200,
  ) => {
    const progress = await getIssueProgress(db, id);
    const history =
      progress.issue.status === 'draft' ? { period: 'minute' as const, points: [] } : await getSendingHistory(db, id);
    return render(
      request,
      reply,
      { title: progress.issue.subject, path: `/newsroom/newsletters/${id}`, scripts: ['newsletter.js'], status },
      ({ csrf }) =>
        issueMain({
          csrf,
          issue: progress.issue,
          progress: issueProgressJson(progress.issue, progress.counts),
          history,
          ...extra,
        }),
    );
  };

  app.get('/newsletters/:id', { preHandler: editor }, (request, reply) =>
    issuePage(request, reply, issueId(request.params)),
  );

  app.get('/newsletters/:id/preview', { preHandler: editor }, async (request, reply) => {
    const rendered = await renderStoredIssue(db, deps.siteUrl, issueId(request.params));
    return reply
      .type('text/html; charset=utf-8')
      .header('x-frame-options', 'SAMEORIGIN')
      .header('content-security-policy', mailPreviewCsp)
      .send(rendered.html);
  });

  app.post('/newsletters/:id/test', { preHandler: editor, bodyLimit: formBodyLimit }, async (request, reply) => {
    const id = issueId(request.params);
    const form = testFormSchema.safeParse(request.body ?? {});
    const typed = form.success ? form.data.to.replace(/[\x00-\x1f\x7f]/g, '') : '';
    const address = normaliseEmail(typed);
    if (!address) {
      const error = new AppError('newsletter.invalid_test_address');
      return issuePage(request, reply, id, { error: error.message, testTo: typed }, error.status);
    }
    const outcome = await sendTestOfIssue(db, deps.mail, { siteUrl: deps.siteUrl, issueId: id, to: address.email });
    if (outcome.kind === 'accepted')
      return issuePage(request, reply, id, {
        notice: `A test copy was sent to ${address.email}.`,
        testTo: address.email,
      });
    // The mail server refused or could not be reached: say so plainly, with its reply (never a stack).
    return issuePage(
      request,
      reply,
      id,
      { error: `The test copy could not be sent: ${outcome.error}`, testTo: address.email },
      502,
    );
  });

  app.get('/newsletters/:id/send', { preHandler: editor }, async (request, reply) => {
    const id = issueId(request.params);
    const { issue } = await getIssueProgress(db, id);
    if (issue.status !== 'draft') return reply.redirect(`/newsroom/newsletters/${id}`, 303);
    const recipients = (await subscriberCountsByStatus(db)).confirmed;
    return render(
      request,
      reply,
      { title: `Send ${issue.subject}`, path: `/newsroom/newsletters/${id}/send` },
      ({ csrf }) => sendConfirmMain(csrf, issue, recipients),
    );
  });

  app.post('/newsletters/:id/send', { preHandler: editor, bodyLimit: formBodyLimit }, async (request, reply) => {
    const id = issueId(request.params);
    await sendIssue(db, deps.newsletters, id);
    return reply.redirect(`/newsroom/newsletters/${id}`, 303);
  });

  app.get('/newsletters/:id/progress.json', { preHandler: editor }, async (request, reply) => {
    const progress = await getIssueProgress(db, issueId(request.params));
    return reply.type('application/json; charset=utf-8').send(issueProgressJson(progress.issue, progress.counts));
  });
  return Promise.resolve();
}
