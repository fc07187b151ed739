import {
  HISTORY_BUCKETS,
  HISTORY_MAX_RANGE_S,
  HistoryBucketSchema,
  LiveTrafficSchema,
  PageQuerySchema,
  PageSchema,
  RFC3339_PATTERN,
  networkToGeoJSON,
} from '@cityflow/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { allLive, history, listLive } from '../store/traffic.js';
import { type AppContext, errorResponses, requireRole } from './context.js';
import { ApiError } from './errors.js';
import { clampLimit, decodeCursor, toPage } from './pagination.js';

const RoadIdQuery = Type.Optional(Type.String({ maxLength: 64 }));

export async function trafficRoutes(app: FastifyInstance, ctx: AppContext) {
  const viewer = requireRole(ctx, 'viewer');

  app.get<{ Querystring: { limit?: number; before?: string; road_id?: string } }>(
    '/api/traffic/live',
    {
      preHandler: viewer,
      schema: {
        tags: ['traffic'],
        security: [{ bearer: [] }],
        querystring: Type.Intersect([PageQuerySchema, Type.Object({ road_id: RoadIdQuery })]),
        response: { 200: PageSchema(LiveTrafficSchema), ...errorResponses },
      },
    },
    async (req, reply) => {
      const key = `${req.query.limit ?? ''}|${req.query.before ?? ''}|${req.query.road_id ?? ''}`;
      const limit = clampLimit(req.query.limit);
      const before = decodeCursor(req.query.before);
      const body = await ctx.cache.getOrLoad('live', key, async () => {
        const rows = await listLive(ctx.db, { limit, roadId: req.query.road_id, before });
        return JSON.stringify(toPage(rows, limit, (r) => [r.ts, r.road_id]));
      });
      return reply.type('application/json').send(body);
    },
  );

  app.get<{
    Querystring: {
      limit?: number;
      before?: string;
      road_id?: string;
      from: string;
      to: string;
      bucket?: (typeof HISTORY_BUCKETS)[number];
    };
  }>(
    '/api/traffic/history',
    {
      preHandler: viewer,
      schema: {
        tags: ['traffic'],
        security: [{ bearer: [] }],
        querystring: Type.Intersect([
          PageQuerySchema,
          Type.Object({
            road_id: RoadIdQuery,
            from: Type.String({ pattern: RFC3339_PATTERN }),
            to: Type.String({ pattern: RFC3339_PATTERN }),
            bucket: Type.Optional(
              Type.Union(
                HISTORY_BUCKETS.map((b) => Type.Literal(b)),
                { default: '5m' },
              ),
            ),
          }),
        ]),
        response: { 200: PageSchema(HistoryBucketSchema), ...errorResponses },
      },
    },
    async (req) => {
      const from = Date.parse(req.query.from);
      const to = Date.parse(req.query.to);
      if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from)
        throw new ApiError(400, 'CF_BAD_REQUEST', 'from and to must be RFC 3339 times with from < to');
      const bucket = req.query.bucket ?? '5m';
      const maxS = HISTORY_MAX_RANGE_S[bucket];
      if (to - from > maxS * 1000)
        throw new ApiError(
          400,
          'CF_RANGE_TOO_LARGE',
          `from..to spans ${Math.ceil((to - from) / 86_400_000)} days; bucket ${bucket} allows at most ${maxS / 86_400} days (use a coarser bucket)`,
        );
      const limit = clampLimit(req.query.limit);
      const rows = await history(ctx.db, {
        roadId: req.query.road_id,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        bucket,
        limit,
        before: decodeCursor(req.query.before),
      });
      return toPage(rows, limit, (r) => [r.ts, r.road_id]);
    },
  );

  /**
   * The whole network (not paginated) with the live state of each road in `properties.live`
   * (and `properties.congestion_score` for map styling).
   */
  app.get(
    '/api/roads',
    {
      preHandler: viewer,
      schema: { tags: ['network'], security: [{ bearer: [] }], response: errorResponses },
    },
    async () => {
      const live = await allLive(ctx.db);
      const geo = networkToGeoJSON(ctx.net);
      for (const f of geo.features) {
        const p = f.properties as Record<string, unknown>;
        if (p.kind !== 'road') continue;
        const l = live.get(p.road_id as string) ?? null;
        p.live = l;
        p.congestion_score = l?.congestion_score ?? null;
      }
      return geo;
    },
  );
}
