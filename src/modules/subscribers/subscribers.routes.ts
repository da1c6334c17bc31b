import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import type { PageCache } from '../../http/page-cache.ts';
import type { SiteContext } from '../../ui/layout.ts';
import {
  alreadyConfirmedPage,
  checkInboxPage,
  confirmedPage,
  confirmPage,
  erasedPage,
  managePage,
  signupAgainPage,
  unsubscribedPage,
  unsubscribePage,
} from './subscribers.pages.ts';
import {
  maxEmailLength,
  sameSitePath,
  signupFormSchema,
  tokenFormSchema,
  tokenQuerySchema,
} from './subscribers.schema.ts';
import type { SubscriberService } from './subscribers.service.ts';

export interface SubscriberRoutesDeps {
  db: Db;
  config: Pick<Config, 'siteUrl'>;
  /** The publication's settings, sections and assets for a page (the public site loads them). */
  site: () => Promise<SiteContext>;
  now: () => Date;
  subscribers: SubscriberService;
  /** Keeps the "check your inbox" page rendered (the same for every sign-up) until content changes. */
  pages: PageCache;
}

const htmlType = 'text/html; charset=utf-8';

/** Pages answer one visitor and may carry a token: never cached, never sent on as a Referer. */
function personal(reply: FastifyReply, status = 200): FastifyReply {
  return reply.code(status).type(htmlType).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
}

function parseToken(schema: typeof tokenQuerySchema, value: unknown): string {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new AppError('subscriber.bad_token');
  return parsed.data.token;
}

/**
 * The newsletter's public routes: sign-up, double opt-in, one-click unsubscribe and self-service.
 * Each parses with a schema, calls SubscriberService, and renders a page from subscribers.pages.ts.
 */
export function subscriberRoutes(app: FastifyInstance, deps: SubscriberRoutesDeps): Promise<void> {
  const { subscribers } = deps;
  const { site } = deps;

  // RFC 8058 §3.1 lets a one-click POST arrive as multipart/form-data; its body carries nothing we need
  // (the token is in the URL), so it is read and dropped. Scoped to these routes by encapsulation.
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_request, _body, done) => done(null, {}),
  );

  app.post('/newsletter/subscribe', async (request, reply) => {
    const parsed = signupFormSchema.safeParse(request.body ?? {});
    const form = parsed.success
      ? parsed.data
      : { email: '', consent: undefined, source: undefined, website: undefined };
    try {
      if (!parsed.success) throw new AppError('subscriber.invalid_email');
      await subscribers.signup(form, { ip: request.ip, userAgent: request.headers['user-agent'] });
    } catch (error) {
      if (
        error instanceof AppError &&
        (error.code === 'subscriber.invalid_email' || error.code === 'subscriber.consent_required')
      ) {
        const email = form.email.length <= maxEmailLength ? form.email.replace(/[\x00-\x1f\x7f]/g, '') : '';
        return personal(reply, error.status).send(
          signupAgainPage(await site(), {
            error: error.message,
            email,
            sourcePath: sameSitePath(form.source) ?? '/',
            invalid: error.code === 'subscriber.consent_required' ? 'consent' : 'email',
          }),
        );
      }
      if (error instanceof AppError && error.code === 'subscriber.rate_limited') reply.header('retry-after', '600');
      throw error;
    }
    return personal(reply).send(
      await deps.pages.body('newsletter:check-inbox', async () => checkInboxPage(await site())),
    );
  });

  app.get('/newsletter/confirm', async (request, reply) => {
    const token = parseToken(tokenQuerySchema, request.query);
    // A second link pressed after the first confirmed: say so, no button needed.
    if ((await subscribers.checkConfirmToken(token)) === 'confirmed')
      return personal(reply).send(alreadyConfirmedPage(await site()));
    return personal(reply).send(confirmPage(await site(), token));
  });

  app.post('/newsletter/confirm', async (request, reply) => {
    const token = parseToken(tokenFormSchema, request.body);
    const { subscriberId, already } = await subscribers.confirm(token);
    if (already) return personal(reply).send(alreadyConfirmedPage(await site()));
    return personal(reply).send(confirmedPage(await site(), subscribers.manageToken(subscriberId)));
  });

  app.get('/newsletter/unsubscribe', async (request, reply) => {
    const token = parseToken(tokenQuerySchema, request.query);
    await subscribers.checkUnsubscribeToken(token);
    return personal(reply).send(unsubscribePage(await site(), token));
  });

  // The one-click endpoint (RFC 8058 §3.2): no cookie, no confirmation step, effective at once, 200.
  app.post('/newsletter/unsubscribe', async (request, reply) => {
    const token = parseToken(tokenQuerySchema, request.query);
    await subscribers.unsubscribe(token);
    return personal(reply).send(unsubscribedPage(await site()));
  });

  app.get('/newsletter/me', async (request, reply) => {
    const token = parseToken(tokenQuerySchema, request.query);
    const subscriber = await subscribers.subscriberForToken(token);
    return personal(reply).send(managePage(await site(), subscriber, token));
  });

  app.get('/newsletter/me/data', async (request, reply) => {
    const token = parseToken(tokenQuerySchema, request.query);
    const data = await subscribers.exportData(token);
    return reply
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('content-disposition', 'attachment; filename="newsletter-data.json"')
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(data, null, 2));
  });

  app.post('/newsletter/me/delete', async (request, reply) => {
    const token = parseToken(tokenQuerySchema, request.query);
    await subscribers.erase(token);
    return personal(reply).send(erasedPage(await site()));
  });
  return Promise.resolve();
}
