import type { FastifyInstance } from 'fastify';
import type { Readiness } from './health.service.ts';

/**
 * `/healthz`: the process is alive and its event loop turns (200 at once; no database, so a slow database
 * never gets a healthy process restarted). `/readyz`: it should get traffic (see createReadinessCheck); 503
 * with the reason otherwise, including while it drains on SIGTERM. Neither is ever cached: they are not
 * page-cache routes, so the fast path never answers them, and they say `no-store`.
 */
export function healthRoutes(app: FastifyInstance, deps: { readiness: () => Promise<Readiness> }): Promise<void> {
  app.get('/healthz', (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const readiness = await deps.readiness();
    reply.code(readiness.ready ? 200 : 503).header('cache-control', 'no-store');
    if (!readiness.ready) reply.header('retry-after', '5');
    return reply.send(
      readiness.ready
        ? { status: 'ready', checks: readiness.checks }
        : { status: 'not ready', reason: readiness.reason, checks: readiness.checks },
    );
  });
  return Promise.resolve();
}
