import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { listenOn } from '../broker/listen.js';
import type { Logger } from '../logger.js';

/**
 * `/health` (200 while the agent runs; body says whether the hub link is up), `/metrics`
 * (Prometheus text), `/status` (the `status --json` document, for `cityflow-agent status --url`).
 * Plain node:http: three read-only routes do not need a framework on a Pi.
 */
export class HttpServer {
  private server: Server | null = null;
  port = 0;

  constructor(
    private readonly opts: { port: number; host: string },
    private readonly registry: Registry,
    private readonly status: (gc?: boolean) => Record<string, unknown>,
    /** `/health`: O(1), no SQLite work (probes arrive hundreds per second from a supervisor or LB) */
    private readonly health: () => Record<string, unknown>,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const send = (code: number, type: string, body: string) => {
        // an explicit length: no chunked encoding for a one-piece body (and simple clients can frame it)
        res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      const path = (req.url ?? '/').split('?')[0];
      (async () => {
        if (req.method !== 'GET')
          return send(
            405,
            'application/json',
            JSON.stringify({ error: { code: 'CF_METHOD', message: 'GET only' } }),
          );
        if (path === '/health') return send(200, 'application/json', JSON.stringify(this.health()));
        if (path === '/metrics') return send(200, this.registry.contentType, await this.registry.metrics());
        // `/status?gc`: collect garbage first when the process runs with --expose-gc (benchmarks)
        if (path === '/status')
          return send(200, 'application/json', JSON.stringify(this.status(/[?&]gc\b/.test(req.url ?? ''))));
        send(
          404,
          'application/json',
          JSON.stringify({ error: { code: 'CF_NOT_FOUND', message: `no route ${path}` } }),
        );
      })().catch((err: Error) => {
        this.log.error({ err }, 'http handler failed');
        send(
          500,
          'application/json',
          JSON.stringify({ error: { code: 'CF_INTERNAL', message: 'internal error' } }),
        );
      });
    });
    this.server = server;
    this.port = await listenOn(server, this.opts.port, this.opts.host, '--http-port').catch((e) => {
      this.server = null;
      throw e;
    });
    this.log.info({ port: this.port }, 'http listening');
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
