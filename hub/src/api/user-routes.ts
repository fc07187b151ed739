import { CredentialsSchema, type Role, RoleSchema, UserSchema } from '@cityflow/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { newUserPassword } from '../auth/passwords.js';
import { type UserChange, removeUser, resetUserPassword, setUserRole } from '../store/users.js';
import { type AppContext, errorResponses, requireRole } from './context.js';
import { ApiError } from './errors.js';

const EmailParams = Type.Object({ email: CredentialsSchema.properties.email });
const conflicts = { 404: { $ref: 'ApiError#' }, 409: { $ref: 'ApiError#' } };

/**
 * Admin actions on users (the CLI's `users role|reset-password|remove` for a running hub). Each one
 * ends the user's existing tokens at once, on every replica, WebSockets included (token version).
 */
export async function userRoutes(app: FastifyInstance, ctx: AppContext) {
  const admin = requireRole(ctx, 'admin');
  const applied = (c: UserChange) => {
    if (!c.ok) throw new ApiError(c.code === 'CF_NOT_FOUND' ? 404 : 409, c.code, c.message);
    return c.user;
  };

  app.put<{ Params: { email: string }; Body: { role: Role } }>(
    '/api/users/:email/role',
    {
      preHandler: admin,
      schema: {
        tags: ['users'],
        security: [{ bearer: [] }],
        params: EmailParams,
        body: Type.Object({ role: RoleSchema }),
        response: { 200: UserSchema, ...errorResponses, ...conflicts },
      },
    },
    async (req) => {
      const user = applied(await setUserRole(ctx.db, req.params.email, req.body.role));
      ctx.revocations.userChanged(user.id, user.token_version);
      req.log.info({ by: req.claims?.email, user: user.email, role: user.role }, 'user role changed');
      return user;
    },
  );

  app.post<{ Params: { email: string }; Body: { password?: string } }>(
    '/api/users/:email/password',
    {
      preHandler: admin,
      schema: {
        tags: ['users'],
        security: [{ bearer: [] }],
        params: EmailParams,
        body: Type.Object({ password: Type.Optional(CredentialsSchema.properties.password) }),
        response: {
          200: Type.Object({ user: UserSchema, password: Type.Optional(Type.String()) }),
          ...errorResponses,
          ...conflicts,
        },
      },
    },
    async (req) => {
      const given = req.body.password;
      const password = given ?? newUserPassword();
      const user = applied(await resetUserPassword(ctx.db, req.params.email, password));
      ctx.revocations.userChanged(user.id, user.token_version);
      req.log.info({ by: req.claims?.email, user: user.email }, 'user password reset');
      // a generated password is shown once, here; one the admin chose is not echoed
      return given ? { user } : { user, password };
    },
  );

  app.delete<{ Params: { email: string } }>(
    '/api/users/:email',
    {
      preHandler: admin,
      schema: {
        tags: ['users'],
        security: [{ bearer: [] }],
        params: EmailParams,
        response: { 204: { type: 'null' }, ...errorResponses, ...conflicts },
      },
    },
    async (req, reply) => {
      const user = applied(await removeUser(ctx.db, req.params.email));
      ctx.revocations.userChanged(user.id, null);
      req.log.info({ by: req.claims?.email, user: user.email }, 'user removed');
      reply.code(204).send();
    },
  );
}
