import {
  type AuthResponse,
  AuthResponseSchema,
  type Credentials,
  CredentialsSchema,
} from '@cityflow/protocol';
import type { FastifyInstance } from 'fastify';
import { DUMMY_HASH, verifyPassword } from '../auth/passwords.js';
import { createUser, findUserByEmail, toUser } from '../store/users.js';
import { type AppContext, requireRole } from './context.js';
import { ApiError } from './errors.js';

export async function authRoutes(app: FastifyInstance, ctx: AppContext) {
  app.post<{ Body: Credentials }>(
    '/api/auth/register',
    {
      schema: {
        tags: ['auth'],
        body: CredentialsSchema,
        response: {
          201: AuthResponseSchema,
          400: { $ref: 'ApiError#' },
          403: { $ref: 'ApiError#' },
          409: { $ref: 'ApiError#' },
        },
      },
    },
    async (req, reply): Promise<AuthResponse> => {
      if (!ctx.config.openRegistration)
        throw new ApiError(403, 'CF_FORBIDDEN', 'registration is disabled on this hub');
      const user = await createUser(ctx.db, req.body.email, req.body.password, 'operator');
      if (!user) throw new ApiError(409, 'CF_CONFLICT', 'email already registered');
      reply.code(201);
      return { token: await ctx.tokens.sign(user), user };
    },
  );

  app.post<{ Body: Credentials }>(
    '/api/auth/login',
    {
      config: {
        // Per client IP and email, counted after body parsing: one address guessing one account is
        // slowed down without locking out an office behind one NAT.
        rateLimit: {
          max: ctx.config.loginRateLimit,
          timeWindow: '1 minute',
          hook: 'preHandler',
          keyGenerator: (req) =>
            `${req.ip}|${String((req.body as { email?: unknown } | undefined)?.email ?? '').toLowerCase()}`,
        },
      },
      schema: {
        tags: ['auth'],
        body: CredentialsSchema,
        response: {
          200: AuthResponseSchema,
          400: { $ref: 'ApiError#' },
          401: { $ref: 'ApiError#' },
          429: { $ref: 'ApiError#' },
        },
      },
    },
    async (req): Promise<AuthResponse> => {
      const row = await findUserByEmail(ctx.db, req.body.email);
      // Hash even for an unknown email so timing does not reveal which emails exist.
      const ok = await verifyPassword(req.body.password, row?.password_hash ?? DUMMY_HASH);
      if (!row || !ok) throw new ApiError(401, 'CF_UNAUTHORIZED', 'invalid email or password');
      const user = toUser(row);
      return { token: await ctx.tokens.sign(user), user };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      preHandler: requireRole(ctx, 'viewer'),
      schema: {
        tags: ['auth'],
        security: [{ bearer: [] }],
        response: { 204: { type: 'null' }, 401: { $ref: 'ApiError#' } },
      },
    },
    async (req, reply) => {
      await ctx.revocations.revoke(req.claims!.jti, req.claims!.exp);
      reply.code(204).send();
    },
  );
}
