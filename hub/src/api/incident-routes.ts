import { IncidentQuerySchema, IncidentSchema, PageQuerySchema, PageSchema } from '@cityflow/protocol';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { listIncidents } from '../store/incidents.js';
import { type AppContext, errorResponses, requireRole } from './context.js';
import { clampLimit, decodeCursor, toPage } from './pagination.js';

const Query = Type.Intersect([PageQuerySchema, IncidentQuerySchema]);

/** `GET /api/incidents`: detected incidents, newest first; `active=true` = not cleared yet. */
export async function incidentRoutes(app: FastifyInstance, ctx: AppContext) {
  const viewer = requireRole(ctx, 'viewer');
  app.get<{ Querystring: Static<typeof Query> }>(
    '/api/incidents',
    {
      preHandler: viewer,
      schema: {
        tags: ['forecast'],
        security: [{ bearer: [] }],
        querystring: Query,
        response: { 200: PageSchema(IncidentSchema), ...errorResponses },
      },
    },
    async (req, reply) => {
      const active = req.query.active === true;
      const key = `${active}|${req.query.limit ?? ''}|${req.query.before ?? ''}`;
      const body = await ctx.cache.getOrLoad('incidents', key, async () => {
        const limit = clampLimit(req.query.limit);
        const rows = await listIncidents(ctx.db, { active, limit, before: decodeCursor(req.query.before) });
        return JSON.stringify(toPage(rows, limit, (r) => [r.detected_at, r.incident_id]));
      });
      return reply.type('application/json').send(body);
    },
  );
}
