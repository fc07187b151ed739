import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CityFlowError, isValidId } from '@cityflow/protocol';
import type { Logger } from './logger.js';
import type { ActiveIncident, OnDemandIncidents } from './scenarios/on-demand.js';

const MAX_BODY_BYTES = 4096;

/**
 * The running simulator's control endpoint, on 127.0.0.1 only, behind a random bearer token (written to
 * demo.json, which is 0600 like the credentials beside it):
 *   GET  /incidents                          -> {incidents:[{road_id, started_at, ended_at}]}
 *   POST /incidents {"action":"start"|"end","road_id":"R"} -> {incident}
 * Times are the simulation's clock, so they match the readings' timestamps.
 */
export class ControlServer {
  private server: Server | null = null;
  readonly token = randomBytes(24).toString('base64url');
  url = '';

  constructor(
    private readonly incidents: OnDemandIncidents,
    private readonly simNow: () => number,
    private readonly log: Logger,
    private readonly port = 0,
  ) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  private authorised(req: IncomingMessage): boolean {
    const given = Buffer.from(req.headers.authorization ?? '');
    const want = Buffer.from(`Bearer ${this.token}`);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string) =>
      send(status, { error: { code, message } });
    if (!this.authorised(req)) return error(401, 'CF_UNAUTHORIZED', 'missing or wrong control token');
    if (req.url !== '/incidents') return error(404, 'CF_NOT_FOUND', 'only /incidents is served');
    if (req.method === 'GET') return send(200, { incidents: this.incidents.list() });
    if (req.method !== 'POST') return error(405, 'CF_BAD_REQUEST', 'GET or POST');
    let raw = '';
    for await (const chunk of req) {
      raw += chunk;
      if (raw.length > MAX_BODY_BYTES)
        return error(413, 'CF_PAYLOAD_TOO_LARGE', `at most ${MAX_BODY_BYTES} bytes`);
    }
    let body: { action?: unknown; road_id?: unknown };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return error(400, 'CF_BAD_REQUEST', 'body must be JSON');
    }
    const problems: string[] = [];
    if (body?.action !== 'start' && body?.action !== 'end') problems.push('action: must be "start" or "end"');
    if (typeof body?.road_id !== 'string' || !isValidId(body.road_id))
      problems.push('road_id: must be a road id');
    if (problems.length) return error(400, 'CF_BAD_REQUEST', problems.join('; '));
    try {
      const now = this.simNow();
      const incident: ActiveIncident =
        body.action === 'start'
          ? this.incidents.start(body.road_id as string, now)
          : this.incidents.end(body.road_id as string, now);
      this.log.info({ action: body.action, road_id: body.road_id }, 'incident on demand');
      return send(200, { incident });
    } catch (e) {
      if (e instanceof CityFlowError) return error(409, e.code, e.message);
      throw e;
    }
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** Client side of the control endpoint (`cityflow-sim incident ...`). */
export async function controlRequest(
  control: { url: string; token: string },
  method: 'GET' | 'POST',
  body?: unknown,
): Promise<unknown> {
  const res = await fetch(`${control.url}/incidents`, {
    method,
    headers: { authorization: `Bearer ${control.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok)
    throw new CityFlowError(
      'CF_INVALID_CONFIG',
      `simulator control: ${json?.error?.message ?? `HTTP ${res.status}`}`,
    );
  return json;
}
