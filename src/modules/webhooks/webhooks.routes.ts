import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { NewsroomAuth, NewsroomPageRenderer } from '../users/index.ts';
import { webhookDeliveriesMain, webhooksMain, type WebhooksPageView } from './webhooks.pages.ts';
import type { WebhookService } from './webhooks.service.ts';

export interface WebhookRoutesDeps {
  auth: NewsroomAuth;
  render: NewsroomPageRenderer;
  webhooks: WebhookService;
}

const idSchema = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});
const stringList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
const registerSchema = z.object({
  url: z.string().max(4000),
  events: stringList.optional().default([]),
  allow_private: z.literal('1').optional(),
});

/**
 * The admin's webhooks screens, inside the newsroom plugin (its hooks: the signed-in user, CSRF, no-store):
 * `/newsroom/webhooks` (register, list, rotate, remove) and `/newsroom/webhooks/:id` (recent deliveries).
 */
export function webhookNewsroomRoutes(app: FastifyInstance, deps: WebhookRoutesDeps): Promise<void> {
  const { auth, render, webhooks } = deps;
  const admin = auth.requireRole('admin');

  const page = async (
    request: FastifyRequest,
    reply: FastifyReply,
    view: Omit<WebhooksPageView, 'csrf' | 'endpoints'>,
    status = 200,
  ) => {
    const endpoints = await webhooks.list();
    return render(request, reply, { title: 'Webhooks', path: '/newsroom/webhooks', status }, ({ csrf }) =>
      webhooksMain({ ...view, csrf, endpoints }),
    );
  };
  const endpointId = (request: FastifyRequest) => {
    const parsed = idSchema.safeParse(request.params);
    if (!parsed.success) throw new AppError('webhook.not_found');
    return parsed.data.id;
  };

  app.get('/webhooks', { preHandler: admin }, (request, reply) => page(request, reply, {}));

  app.post('/webhooks', { preHandler: admin }, async (request, reply) => {
    const form = registerSchema.safeParse(request.body ?? {});
    if (!form.success) return page(request, reply, { error: new AppError('webhook.invalid_url').message }, 400);
    const draft = { url: form.data.url, events: form.data.events, allowPrivate: form.data.allow_private === '1' };
    const current = await auth.currentUser(request);
    try {
      const { id, secret } = await webhooks.register({
        url: draft.url,
        events: draft.events,
        allowPrivate: draft.allowPrivate,
        createdBy: current?.user.email ?? 'newsroom',
      });
      return page(request, reply, {
        notice: `Webhook ${id} is registered.`,
        secret: { endpointId: id, value: secret, rotated: false },
      });
    } catch (error) {
      if (error instanceof AppError && error.status < 500)
        return page(request, reply, { error: error.message, draft }, error.status);
      throw error;
    }
  });

  app.post('/webhooks/:id/rotate', { preHandler: admin }, async (request, reply) => {
    const id = endpointId(request);
    const { secret } = await webhooks.rotate(id);
    return page(request, reply, { secret: { endpointId: id, value: secret, rotated: true } });
  });

  app.post('/webhooks/:id/remove', { preHandler: admin }, async (request, reply) => {
    const id = endpointId(request);
    await webhooks.remove(id);
    return page(request, reply, { notice: `Webhook ${id} is removed, with its queued deliveries and its log.` });
  });

  app.get('/webhooks/:id', { preHandler: admin }, async (request, reply) => {
    const id = endpointId(request);
    const [endpoint, deliveries] = await Promise.all([webhooks.get(id), webhooks.recentDeliveries(id)]);
    return render(request, reply, { title: `Webhook ${id}`, path: `/newsroom/webhooks/${id}` }, () =>
      webhookDeliveriesMain(endpoint, deliveries),
    );
  });
  return Promise.resolve();
}
