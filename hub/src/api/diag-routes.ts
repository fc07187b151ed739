import { randomUUID } from 'node:crypto';
import { type DiagRequest, type DiagResponse, ID_PATTERN, RFC3339_PATTERN, topics } from '@cityflow/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type AppContext, errorResponses, requireRole } from './context.js';
import { ApiError } from './errors.js';
import { extraRateLimit } from './rate-limits.js';

const DiagBody = Type.Object({
  from: Type.String({ pattern: RFC3339_PATTERN }),
  to: Type.String({ pattern: RFC3339_PATTERN }),
  sensor_id: Type.Optional(Type.String({ pattern: ID_PATTERN })),
  road_id: Type.Optional(Type.String({ pattern: ID_PATTERN })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
});
export const DIAG_TIMEOUT_MS = 10_000;

/**
 * `POST /api/agents/:agent_id/diag` (operator): asks an agent for the raw readings it keeps (they never
 * cross the link otherwise) and answers with its DiagResponse, or 504 when the agent does not answer.
 */
export async function diagRoutes(app: FastifyInstance, ctx: AppContext) {
  // Each request makes an agent (a Raspberry Pi) scan its SQLite for up to 5,000 raw readings and send
  // them over its uplink: bounded per user (one operator cannot flood every agent) and per agent (many
  // operators cannot flood one). Shared by replicas through Redis like the login limit.
  const window = { max: ctx.config.diagRateLimit, timeWindow: '1 minute' };
  const perUser = extraRateLimit(app, {
    ...window,
    key: (req) => `diag-user:${req.claims?.sub}`,
    what: 'diagnostics requests from this user',
  });
  const perAgent = extraRateLimit(app, {
    ...window,
    key: (req) => `diag-agent:${(req.params as { agent_id: string }).agent_id}`,
    what: 'diagnostics requests to this agent',
  });

  app.post<{
    Params: { agent_id: string };
    Body: { from: string; to: string; sensor_id?: string; road_id?: string; limit?: number };
  }>(
    '/api/agents/:agent_id/diag',
    {
      // after the role check: the user key needs the verified token
      preHandler: [requireRole(ctx, 'operator'), perUser, perAgent],
      schema: {
        tags: ['agents'],
        security: [{ bearer: [] }],
        params: Type.Object({ agent_id: Type.String({ pattern: ID_PATTERN }) }),
        body: DiagBody,
        response: { ...errorResponses, 429: { $ref: 'ApiError#' }, 504: { $ref: 'ApiError#' } },
      },
    },
    async (req) => {
      const requestId = randomUUID();
      const answer = new Promise<DiagResponse | null>((resolve) => {
        const timer = setTimeout(() => {
          off();
          resolve(null);
        }, DIAG_TIMEOUT_MS);
        const off = ctx.bus.subscribe((m) => {
          if (
            m.type === 'diag' &&
            m.data.request_id === requestId &&
            m.data.agent_id === req.params.agent_id
          ) {
            clearTimeout(timer);
            off();
            resolve(m.data);
          }
        });
      });
      const request: DiagRequest = { v: 1, request_id: requestId, kind: 'raw', ...req.body };
      await ctx.publish(topics.diagRequest(req.params.agent_id), request, { qos: 1, retain: false });
      const r = await answer;
      if (!r)
        throw new ApiError(
          504,
          'CF_AGENT_TIMEOUT',
          `agent ${req.params.agent_id} did not answer within ${DIAG_TIMEOUT_MS / 1000} s`,
        );
      return r;
    },
  );
}
