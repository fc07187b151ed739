import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/**
 * A preHandler counting requests per `key(req)` in a window, 429 `CF_RATE_LIMITED` beyond `max`.
 * @fastify/rate-limit runs only one route limiter per request; routes that need several (login: per
 * IP+email and per password; diagnostics: per user and per agent) add the others with this, on the
 * same store (Redis when shared, in-process otherwise). Keys carry their own prefix: limiters made
 * this way share one key space.
 */
export function extraRateLimit(
  app: FastifyInstance,
  o: { max: number; timeWindow: string; key: (req: FastifyRequest) => string; what: string },
) {
  const check = app.createRateLimit({ max: o.max, timeWindow: o.timeWindow, keyGenerator: o.key });
  return async (req: FastifyRequest) => {
    const r = await check(req);
    if (!r.isAllowed && r.isExceeded)
      throw new ApiError(429, 'CF_RATE_LIMITED', `too many ${o.what}, retry in ${r.ttlInSeconds} s`);
  };
}
