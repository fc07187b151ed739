import {
  AgentCredentialsSchema,
  AgentInfoSchema,
  ID_PATTERN,
  PageQuerySchema,
  PageSchema,
} from '@cityflow/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { listAgents } from '../store/agents.js';
import { type AppContext, errorResponses, requireRole } from './context.js';
import { ApiError } from './errors.js';
import { clampLimit, toPage } from './pagination.js';

const AgentIdBody = Type.Object({ agent_id: Type.String({ pattern: ID_PATTERN }) });

export async function agentRoutes(app: FastifyInstance, ctx: AppContext) {
  app.get<{ Querystring: { limit?: number; before?: string } }>(
    '/api/agents',
    {
      preHandler: requireRole(ctx, 'viewer'),
      schema: {
        tags: ['agents'],
        security: [{ bearer: [] }],
        querystring: PageQuerySchema,
        response: { 200: PageSchema(AgentInfoSchema), ...errorResponses },
      },
    },
    async (req) => {
      const limit = clampLimit(req.query.limit);
      // Agents page by id: the cursor's key is the last id (its ts part is unused).
      let after: string | null = null;
      if (req.query.before) {
        try {
          const v = JSON.parse(Buffer.from(req.query.before, 'base64url').toString('utf8'));
          after = typeof v?.[1] === 'string' ? v[1] : null;
        } catch {
          after = null;
        }
        if (after === null)
          throw new ApiError(400, 'CF_BAD_REQUEST', 'before: not a cursor from next_cursor');
      }
      const rows = await listAgents(ctx.db, limit + 1, after);
      return toPage(rows, limit, (r) => [new Date(0).toISOString(), r.agent_id]);
    },
  );

  app.post<{ Body: { agent_id: string } }>(
    '/api/agents',
    {
      preHandler: requireRole(ctx, 'admin'),
      schema: {
        tags: ['agents'],
        security: [{ bearer: [] }],
        body: AgentIdBody,
        response: { 201: AgentCredentialsSchema, ...errorResponses, 409: { $ref: 'ApiError#' } },
      },
    },
    async (req, reply) => {
      const creds = await ctx.addAgent(req.body.agent_id);
      if (!creds)
        throw new ApiError(
          409,
          'CF_CONFLICT',
          `agent ${req.body.agent_id} exists; POST /api/agents/:agent_id/credentials rotates its secret`,
        );
      reply.code(201);
      return creds;
    },
  );

  app.post<{ Params: { agent_id: string } }>(
    '/api/agents/:agent_id/credentials',
    {
      preHandler: requireRole(ctx, 'admin'),
      schema: {
        tags: ['agents'],
        security: [{ bearer: [] }],
        params: AgentIdBody,
        response: { 201: AgentCredentialsSchema, ...errorResponses, 404: { $ref: 'ApiError#' } },
      },
    },
    async (req, reply) => {
      const creds = await ctx.rotateAgent(req.params.agent_id);
      if (!creds) throw new ApiError(404, 'CF_NOT_FOUND', `no agent ${req.params.agent_id}`);
      reply.code(201);
      return creds;
    },
  );
}
