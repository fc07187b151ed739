import pino, { type Logger } from 'pino';

import { redactUrl } from '@cityflow/protocol';

/** URLs in logs carry no secret: the one redactor of @cityflow/protocol. */
export { redactUrl };

/**
 * The hub's pino logger. Fastify logs requests through these serializers, so the `?token=` of
 * `/ws/live` and Authorization headers never reach a log line.
 */
export function createLogger(level: string, destination?: { write(line: string): void }): Logger {
  return pino(
    {
      level,
      base: { service: 'cityflow-hub' },
      redact: {
        paths: ['password', '*.password', 'token', '*.token', 'req.headers.authorization'],
        censor: '[REDACTED]',
      },
      serializers: {
        req: (r: { method?: string; url?: string; ip?: string }) => ({
          method: r.method,
          url: redactUrl(r.url ?? ''),
          ip: r.ip,
        }),
        res: (r: { statusCode?: number }) => ({ statusCode: r.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}
