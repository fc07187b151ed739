import pino, { type Logger } from 'pino';

/**
 * URLs in logs carry no secret: no `?token=` (the WebSocket passes it in the query) and no password in
 * the userinfo (`mqtt://user:secret@host` → `mqtt://user:[REDACTED]@host`).
 */
export const redactUrl = (url: string) =>
  url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#]*@/i, '$1:[REDACTED]@')
    .replace(/([?&](?:token|access_token|password)=)[^&#]*/gi, '$1[REDACTED]');

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
