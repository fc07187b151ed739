import { PageQuerySchema, PageSchema, PredictionSchema, RerouteSchema } from '@cityflow/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { listPredictions, listReroutes } from '../store/traffic.js';
import { type AppContext, errorResponses, requireRole } from './context.js';
import { clampLimit, decodeCursor, toPage } from './pagination.js';

export async function forecastRoutes(app: FastifyInstance, ctx: AppContext) {
  const viewer = requireRole(ctx, 'viewer');

  app.get<{
    Querystring: { limit?: number; before?: string; road_id?: string; horizon?: number; model?: string };
  }>(
    '/api/predictions',
    {
      preHandler: viewer,
      schema: {
        tags: ['forecast'],
        security: [{ bearer: [] }],
        querystring: Type.Intersect([
          PageQuerySchema,
          Type.Object({
            road_id: Type.Optional(Type.String({ maxLength: 64 })),
            horizon: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, default: 30 })),
            model: Type.Optional(Type.String({ maxLength: 64 })),
          }),
        ]),
        response: { 200: PageSchema(PredictionSchema), ...errorResponses },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const key = `${q.limit ?? ''}|${q.before ?? ''}|${q.road_id ?? ''}|${q.horizon ?? ''}|${q.model ?? ''}`;
      const body = await ctx.cache.getOrLoad('predictions', key, async () => {
        const limit = clampLimit(q.limit);
        const rows = await listPredictions(ctx.db, {
          horizon: q.horizon ?? 30,
          roadId: q.road_id,
          model: q.model,
          limit,
          before: decodeCursor(q.before, 'serial'),
        });
        const page = toPage(
          rows,
          limit,
          (r) => [r.ts, r.id],
          ({ id: _id, ...rest }) => rest,
        );
        return JSON.stringify(page);
      });
      return reply.type('application/json').send(body);
    },
  );

  app.get<{ Querystring: { limit?: number; before?: string } }>(
    '/api/reroutes/recommended',
    {
      preHandler: viewer,
      schema: {
        tags: ['forecast'],
        security: [{ bearer: [] }],
        querystring: PageQuerySchema,
        response: { 200: PageSchema(RerouteSchema), ...errorResponses },
      },
    },
    async (req, reply) => {
      const key = `${req.query.limit ?? ''}|${req.query.before ?? ''}`;
      const body = await ctx.cache.getOrLoad('reroutes', key, async () => {
        const limit = clampLimit(req.query.limit);
        const rows = await listReroutes(ctx.db, {
          nowIso: ctx.clock.nowIso(),
          limit,
          before: decodeCursor(req.query.before, 'serial'),
        });
        return JSON.stringify(
          toPage(
            rows,
            limit,
            (r) => [r.ts, r.id],
            ({ id: _id, ...rest }) => rest,
          ),
        );
      });
      return reply.type('application/json').send(body);
    },
  );
}
