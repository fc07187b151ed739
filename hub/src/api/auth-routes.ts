import {
  type AuthResponse,
  AuthResponseSchema,
  type Credentials,
  CredentialsSchema,
} from '@cityflow/protocol';
import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DUMMY_HASH, verifyPassword } from '../auth/passwords.js';
import { createUser, findUserByEmail, toUser, userWithVersion } from '../store/users.js';
import { type AppContext, requireRole } from './context.js';
import { ApiError } from './errors.js';
import { extraRateLimit } from './rate-limits.js';

const emailOf = (req: FastifyRequest) =>
  String((req.body as { email?: unknown } | undefined)?.email ?? '').toLowerCase();

export async function authRoutes(app: FastifyInstance, ctx: AppContext) {
  // Password spraying: one common password tried against many accounts from many addresses passes a
  // per-(IP, email) limit. This second limit counts attempts per password over every IP and email.
  // The key is an HMAC (keyed by the JWT secret), so a Redis reader learns nothing about passwords.
  const passwordKey = (req: FastifyRequest) => {
    const pw = String((req.body as { password?: unknown } | undefined)?.password ?? '');
    return `login-pw:${createHmac('sha256', ctx.config.jwtSecret).update(pw).digest('base64url').slice(0, 22)}`;
  };
  const sprayLimit = extraRateLimit(app, {
    max: ctx.config.loginPasswordRateLimit,
    timeWindow: '1 minute',
    key: passwordKey,
    what: 'login attempts with this password',
  });

  app.post<{ Body: Credentials }>(
    '/api/auth/register',
    {
      config: {
        // Per client IP: each account costs a scrypt hash and a row, and an open hub must not hand
        // out unlimited accounts. Counted after the open/closed switch, so a closed hub always answers 403.
        rateLimit: { max: ctx.config.registerRateLimit, timeWindow: '1 hour', hook: 'preHandler' },
      },
      preValidation: async () => {
        if (!ctx.config.openRegistration)
          throw new ApiError(403, 'CF_FORBIDDEN', 'registration is disabled on this hub');
      },
      schema: {
        tags: ['auth'],
        body: CredentialsSchema,
        response: {
          201: AuthResponseSchema,
          400: { $ref: 'ApiError#' },
          403: { $ref: 'ApiError#' },
          409: { $ref: 'ApiError#' },
          429: { $ref: 'ApiError#' },
        },
      },
    },
    async (req, reply): Promise<AuthResponse> => {
      // Self-registered accounts read; admins make operators (`users role`, PUT /api/users/:email/role).
      const created = await createUser(ctx.db, req.body.email, req.body.password, 'viewer');
      if (!created) throw new ApiError(409, 'CF_CONFLICT', 'email already registered');
      // the other replicas learn of the new user's version before its token reaches them
      ctx.revocations.userChanged(created.id, created.token_version);
      const { token_version: _, ...user } = created;
      reply.code(201);
      return { token: await ctx.tokens.sign(created), user };
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
          keyGenerator: (req) => `${req.ip}|${emailOf(req)}`,
        },
      },
      preHandler: sprayLimit,
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
      return { token: await ctx.tokens.sign(userWithVersion(row)), user: toUser(row) };
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
