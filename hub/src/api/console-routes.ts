import {
  KpisSchema,
  NETWORK_HISTORY_MAX_BUCKETS,
  type NetworkHistory,
  NetworkHistoryQuerySchema,
  NetworkHistorySchema,
} from '@cityflow/protocol';
import type { FastifyInstance } from 'fastify';
import { computeKpis } from '../store/kpis.js';
import { BUCKET_MS, networkHistory } from '../store/network-history.js';
import { type AppContext, errorResponses, requireRole } from './context.js';
import { ApiError } from './errors.js';

/** Endpoints the operator console needs beyond the seed's API: city-wide KPIs and network-wide history. */
export async function consoleRoutes(app: FastifyInstance, ctx: AppContext) {
  const viewer = requireRole(ctx, 'viewer');

  app.get(
    '/api/kpis',
    {
      preHandler: viewer,
      schema: {
        tags: ['console'],
        security: [{ bearer: [] }],
        response: { 200: KpisSchema, ...errorResponses },
      },
    },
    async () => computeKpis(ctx.db, ctx.clock.now(), ctx.clock.mode),
  );

  app.get<{ Querystring: { from: string; to: string; bucket?: NetworkHistory['bucket'] } }>(
    '/api/traffic/history/network',
    {
      preHandler: viewer,
      schema: {
        tags: ['traffic'],
        security: [{ bearer: [] }],
        querystring: NetworkHistoryQuerySchema,
        response: { 200: NetworkHistorySchema, ...errorResponses },
      },
    },
    async (req) => {
      const fromMs = Date.parse(req.query.from);
      const toMs = Date.parse(req.query.to);
      const bucket = req.query.bucket ?? '5m';
      if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs <= fromMs)
        throw new ApiError(400, 'CF_BAD_REQUEST', 'from and to must be RFC 3339 times with from < to');
      if ((toMs - fromMs) / BUCKET_MS[bucket]! > NETWORK_HISTORY_MAX_BUCKETS)
        throw new ApiError(
          400,
          'CF_BAD_REQUEST',
          `at most ${NETWORK_HISTORY_MAX_BUCKETS} buckets per request: widen the bucket or narrow the window`,
        );
      return networkHistory(ctx.db, ctx.net, { fromMs, toMs, bucket });
    },
  );
}
