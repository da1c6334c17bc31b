import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import type { NewsroomAuth } from '../users/index.ts';
import type { NewsroomPageRenderer } from '../users/index.ts';
import { legalKinds, legalMain, type LegalDocumentState } from './legal.pages.ts';
import { findCurrentLegalDocument, listLegalVersions } from './legal.repository.ts';
import { publishLegalDocument } from './legal.service.ts';
import type { LegalKind } from './legal.table.ts';

export interface LegalRoutesDeps {
  db: Db;
  now: () => Date;
  auth: NewsroomAuth;
  render: NewsroomPageRenderer;
  /** Called after a new version is published: the public pages that show it must be rendered again. */
  contentChanged: () => Promise<void>;
}

/** A document of 200,000 characters is far longer than any terms; the body limit leaves room for encoding. */
const maxBodyCharacters = 200_000;
const formBodyLimit = 1024 * 1024;

const kindSchema = z.object({ kind: z.enum(['terms', 'privacy']) });
const savedQuerySchema = z.object({ saved: z.enum(['terms', 'privacy']).optional() });
const legalFormSchema = z.object({
  title: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((t) => !/[\x00-\x1f\x7f]/.test(t)),
  // Markdown keeps its line breaks; other control characters have no place in it.
  body: z
    .string()
    .max(maxBodyCharacters)
    .transform((b) => b.replace(/\r\n?/g, '\n'))
    .refine((b) => b.trim().length > 0 && !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(b)),
});

/**
 * The admin's legal documents screen: the Terms and the Privacy policy, each edited as Markdown; saving
 * publishes a new version (publishLegalDocument), which the public pages and sign-up consent records use
 * from then on.
 */
export function legalRoutes(app: FastifyInstance, deps: LegalRoutesDeps): Promise<void> {
  const { db, auth, render } = deps;
  const admin = auth.requireRole('admin');

  const page = async (
    request: FastifyRequest,
    reply: FastifyReply,
    saved: LegalKind | undefined,
    draft?: { kind: LegalKind; title: string; body: string; error: string },
    status = 200,
  ) => {
    const documents = {} as Record<LegalKind, LegalDocumentState>;
    for (const { kind } of legalKinds) {
      const [current, versions] = await Promise.all([findCurrentLegalDocument(db, kind), listLegalVersions(db, kind)]);
      documents[kind] = { current, versions, ...(draft?.kind === kind ? { draft } : {}) };
    }
    return render(request, reply, { title: 'Legal documents', path: '/newsroom/legal', status }, ({ csrf }) =>
      legalMain(csrf, documents, saved),
    );
  };

  app.get('/legal', { preHandler: admin }, (request, reply) =>
    page(request, reply, savedQuerySchema.safeParse(request.query ?? {}).data?.saved),
  );

  app.post('/legal/:kind', { preHandler: admin, bodyLimit: formBodyLimit }, async (request, reply) => {
    const params = kindSchema.safeParse(request.params);
    if (!params.success) throw new AppError('legal.not_found');
    const { kind } = params.data;
    const form = legalFormSchema.safeParse(request.body ?? {});
    if (!form.success) {
      const body = request.body as { title?: unknown; body?: unknown } | undefined;
      const error = new AppError('legal.invalid');
      const typed = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');
      return page(
        request,
        reply,
        undefined,
        { kind, title: typed(body?.title, 200), body: typed(body?.body, maxBodyCharacters), error: error.message },
        error.status,
      );
    }
    await publishLegalDocument(db, kind, form.data.title, form.data.body, deps.now());
    await deps.contentChanged();
    return reply.redirect(`/newsroom/legal?saved=${kind}`, 303);
  });
  return Promise.resolve();
}
