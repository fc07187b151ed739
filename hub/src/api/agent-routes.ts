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
import { clampLimit, decodeCursor, toPage } from './pagination.js';

const EPOCH = new Date(0).toISOString();

const AgentIdBody = Type.Object({ agent_id: Type.String({ pattern: ID_PATTERN }) });
const AgentStateSchema = Type.Object({ agent_id: Type.String(), disabled: Type.Boolean() });

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
      // Agents page by id. `before` = an RFC 3339 time lists the agents last seen before it; the
      // cursor carries that time (epoch 0 = no time filter) and the last id of the page.
      const cursor = decodeCursor(req.query.before);
      const seenBefore = cursor && cursor.ts !== EPOCH ? cursor.ts : null;
      const rows = await listAgents(ctx.db, limit + 1, cursor?.key ?? null, seenBefore);
      return toPage(rows, limit, (r) => [seenBefore ?? EPOCH, r.agent_id]);
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

  for (const action of ['disable', 'enable'] as const)
    app.post<{ Params: { agent_id: string } }>(
      `/api/agents/:agent_id/${action}`,
      {
        preHandler: requireRole(ctx, 'admin'),
        schema: {
          tags: ['agents'],
          description:
            action === 'disable'
              ? "the agent's live MQTT session is closed at once and its logins are refused until enabled"
              : 'the agent may log in again with its current credentials',
          security: [{ bearer: [] }],
          params: AgentIdBody,
          response: { 200: AgentStateSchema, ...errorResponses, 404: { $ref: 'ApiError#' } },
        },
      },
      async (req) => {
        const disabled = action === 'disable';
        if (!(await ctx.setAgentDisabled(req.params.agent_id, disabled)))
          throw new ApiError(404, 'CF_NOT_FOUND', `no agent ${req.params.agent_id}`);
        return { agent_id: req.params.agent_id, disabled };
      },
    );
}
