import { existsSync } from 'node:fs';
import { consolePublicDir } from '@cityflow/console';
import { ApiErrorSchema } from '@cityflow/protocol';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import { Redis } from 'ioredis';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { redactUrl } from '../logger.js';
import { agentRoutes } from './agent-routes.js';
import { authRoutes } from './auth-routes.js';
import { consoleRoutes } from './console-routes.js';
import { diagRoutes } from './diag-routes.js';
import type { AppContext } from './context.js';
import { ApiError } from './errors.js';
import { redisWithLocalFallbackStore } from './rate-limit-store.js';
import { forecastRoutes } from './forecast-routes.js';
import { incidentRoutes } from './incident-routes.js';
import { systemRoutes } from './system-routes.js';
import { trafficRoutes } from './traffic-routes.js';
import { userRoutes } from './user-routes.js';
import { WS_MAX_FRAME_BYTES } from './ws-frames.js';
import { wsLive } from './ws-live.js';

export const BODY_LIMIT_BYTES = 64 * 1024;

export async function buildApp(ctx: AppContext, log: Logger): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: log.child({ module: 'http' }) as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Only behind a known proxy may X-Forwarded-For set req.ip: else anyone could dodge the login limit.
    trustProxy: ctx.config.trustProxy,
    // HTTPS_CERT + HTTPS_KEY: the API, console and WebSocket (wss://) are served over TLS by the hub itself.
    ...(ctx.config.https ? { https: ctx.config.https } : {}),
  }) as unknown as FastifyInstance;
  app.addSchema({ $id: 'ApiError', ...ApiErrorSchema });
  // Fastify's JSON parser refuses an empty body under `Content-Type: application/json`, which is what
  // fetch clients send for body-less POSTs (logout). An empty body is read as `{}`: routes whose schema
  // requires members still answer 400. Everything else goes to the default parser (its
  // prototype-poisoning checks kept).
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    body === '' ? done(null, {}) : jsonParser(req, String(body), done),
  );

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError)
      return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
    const status = (err as FastifyError).statusCode ?? 500;
    if ((err as FastifyError).validation)
      return reply.code(400).send({ error: { code: 'CF_BAD_REQUEST', message: err.message } });
    if (status === 413)
      return reply.code(413).send({ error: { code: 'CF_PAYLOAD_TOO_LARGE', message: err.message } });
    if (status === 429)
      return reply
        .code(429)
        .send({ error: { code: 'CF_RATE_LIMITED', message: 'too many requests, retry later' } });
    if (status >= 400 && status < 500)
      return reply.code(status).send({ error: { code: 'CF_BAD_REQUEST', message: err.message } });
    ctx.metrics.httpErrors.inc();
    req.log.error({ err }, 'request failed');
    // Never leak 5xx internals to the client.
    const db = /ECONNREFUSED|connection|terminat|database/i.test(err.message);
    return reply.code(db ? 503 : 500).send({
      error: {
        code: db ? 'CF_DB_ERROR' : 'CF_INTERNAL',
        message: db ? 'database unavailable' : 'internal error',
      },
    });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'CF_NOT_FOUND', message: `no route ${req.method} ${redactUrl(req.url)}` } }),
  );

  // Security headers on every response. The CSP fits what the hub serves: the console (module scripts
  // and styles of its own origin, fetch + WebSocket to the same origin) and Swagger UI at /docs (its
  // inline styles and data: images). No upgrade-insecure-requests: a hub on a plain-HTTP LAN address
  // would have the browser rewrite the console's own requests to https and break it.
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
  });
  if (ctx.config.corsOrigins.length)
    await app.register(fastifyCors, { origin: ctx.config.corsOrigins, credentials: false });
  // With Redis the limits are shared by all replicas; while Redis does not answer, each replica counts
  // on its own (never "no limit": see rate-limit-store.ts).
  const limiterRedis = ctx.config.redisUrl
    ? new Redis(ctx.config.redisUrl, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: 1000,
        commandTimeout: 250,
      })
    : null;
  limiterRedis?.on('error', () => undefined);
  if (limiterRedis) app.addHook('onClose', async () => limiterRedis.disconnect());
  await app.register(fastifyRateLimit, {
    global: false,
    ...(limiterRedis
      ? {
          store: redisWithLocalFallbackStore(
            limiterRedis,
            `${ctx.config.redisPrefix}ratelimit:`,
          ) as unknown as FastifyRateLimitStoreCtor,
        }
      : {}),
    errorResponseBuilder: (_req, c) => ({
      statusCode: 429,
      error: { code: 'CF_RATE_LIMITED', message: `too many requests, retry in ${c.after}` },
    }),
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'CityFlow hub API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await app.register(fastifyWebsocket, { options: { maxPayload: WS_MAX_FRAME_BYTES } });

  await app.register(async (a) => systemRoutes(a, ctx));
  await app.register(async (a) => authRoutes(a, ctx));
  await app.register(async (a) => trafficRoutes(a, ctx));
  await app.register(async (a) => forecastRoutes(a, ctx));
  await app.register(async (a) => incidentRoutes(a, ctx));
  await app.register(async (a) => agentRoutes(a, ctx));
  await app.register(async (a) => diagRoutes(a, ctx));
  await app.register(async (a) => userRoutes(a, ctx));
  await app.register(async (a) => consoleRoutes(a, ctx));
  await app.register(async (a) => wsLive(a, ctx));
  if (existsSync(consolePublicDir))
    await app.register(fastifyStatic, { root: consolePublicDir, prefix: '/', wildcard: false });
  return app;
}
