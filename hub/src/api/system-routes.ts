import { safeEqual } from '@cityflow/protocol';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import { ApiError } from './errors.js';

export async function systemRoutes(app: FastifyInstance, ctx: AppContext) {
  app.get('/health', { schema: { tags: ['system'] } }, async (_req, reply) => {
    const r = await ctx.ready();
    reply.code(r.ok ? 200 : 503);
    return {
      status: r.ok ? 'ok' : 'degraded',
      checks: r.checks,
      clock: ctx.config.clock,
      now: ctx.clock.nowIso(),
      cycle_leader: ctx.cycleLeader(),
      // The SUMO closed loop waits on it: advice computed from data up to this time is being served.
      last_cycle_at: (() => {
        const t = ctx.lastCycleAt();
        return t === null ? null : new Date(t).toISOString();
      })(),
      storage: ctx.storage,
    };
  });

  // Liveness: the process answers. Not the dependencies: a database outage must take replicas out of
  // the Service (readiness on /health), not restart them all (the hub recovers by itself when it returns).
  app.get('/health/live', { schema: { tags: ['system'] } }, async () => ({ status: 'ok' }));

  app.get('/metrics', { schema: { tags: ['system'] } }, async (req, reply) => {
    if (
      ctx.config.metricsToken &&
      !safeEqual(req.headers.authorization ?? '', `Bearer ${ctx.config.metricsToken}`)
    )
      throw new ApiError(401, 'CF_UNAUTHORIZED', 'metrics need the metrics token');
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
