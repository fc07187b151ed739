import { type LiveMessage, isValidId } from '@cityflow/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { allLive } from '../store/traffic.js';
import { type AppContext, requireRole } from './context.js';

interface Client {
  socket: WebSocket;
  /** null = every road */
  roads: Set<string> | null;
  alive: boolean;
  /** the token's id: a logout (on any replica) closes the socket */
  jti: string | undefined;
}

const LIVE_TYPES = new Set(['traffic', 'prediction', 'reroute', 'incident', 'agent']);

function roadsOf(m: LiveMessage): string[] | null {
  if (m.type === 'traffic' || m.type === 'prediction' || m.type === 'incident') return [m.data.road_id];
  if (m.type === 'reroute') return [m.data.route_id, ...m.data.path];
  return null;
}

/**
 * `/ws/live?token=`: messages `{type, data}`. A client may send `{"type":"subscribe","roads":["R1",...]}`
 * (or `"roads":"all"`) to receive only those roads (acknowledged by `{"type":"subscribed","data":{"roads":...}}`);
 * agent messages always pass. A socket whose token is revoked (logout) is closed with code 4001. Heartbeat: a ping every
 * 30 s, a client that missed the previous pong is terminated.
 */
export async function wsLive(app: FastifyInstance, ctx: AppContext) {
  const clients = new Set<Client>();

  const unsubscribe = ctx.bus.subscribe((m) => {
    if (m.type === 'revoked') {
      for (const c of clients) if (c.jti === m.data.jti) c.socket.close(4001, 'token revoked');
      return;
    }
    if (!LIVE_TYPES.has(m.type) || clients.size === 0) return;
    const msg = m as LiveMessage;
    const roads = roadsOf(msg);
    const text = JSON.stringify(msg);
    for (const c of clients) {
      if (c.roads && roads && !roads.some((r) => c.roads!.has(r))) continue;
      if (c.socket.bufferedAmount > ctx.config.wsMaxBufferedBytes) {
        ctx.metrics.wsDropped.inc();
        c.socket.terminate();
        continue;
      }
      c.socket.send(text);
    }
  });

  const heartbeat = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }, ctx.config.wsHeartbeatMs);
  heartbeat.unref();

  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    unsubscribe();
    for (const c of clients) c.socket.terminate();
    clients.clear();
  });

  app.get(
    '/ws/live',
    { websocket: true, preValidation: requireRole(ctx, 'viewer'), schema: { hide: true } },
    (socket: WebSocket, req: FastifyRequest) => {
      const client: Client = { socket, roads: null, alive: true, jti: req.claims?.jti };
      // Revoked between the upgrade's check and now (e.g. on another replica): close at once.
      if (client.jti && ctx.revocations.has(client.jti)) {
        socket.close(4001, 'token revoked');
        return;
      }
      clients.add(client);
      ctx.metrics.wsClients.set(clients.size);
      socket.on('pong', () => {
        client.alive = true;
      });
      socket.on('message', (raw) => {
        // Frames from clients are untrusted: small, JSON, known shape; anything else gets an error frame.
        const text = raw.toString();
        let v: { type?: unknown; roads?: unknown } | null = null;
        try {
          v = text.length <= 65_536 ? JSON.parse(text) : null;
        } catch {
          v = null;
        }
        if (v?.type === 'subscribe' && v.roads === 'all') {
          client.roads = null;
          socket.send(JSON.stringify({ type: 'subscribed', data: { roads: 'all' } }));
        } else if (
          v?.type === 'subscribe' &&
          Array.isArray(v.roads) &&
          v.roads.every((r) => typeof r === 'string' && isValidId(r))
        ) {
          client.roads = new Set(v.roads as string[]);
          // The ack follows the change: from this frame on, only these roads arrive.
          socket.send(JSON.stringify({ type: 'subscribed', data: { roads: [...client.roads] } }));
        } else if (v?.type === 'ping')
          socket.send(JSON.stringify({ type: 'pong', data: { ts: new Date().toISOString() } }));
        else
          socket.send(
            JSON.stringify({
              type: 'error',
              data: {
                code: 'CF_INVALID_MESSAGE',
                message: 'expected {"type":"subscribe","roads":[...]|"all"}',
              },
            }),
          );
      });
      socket.on('close', () => {
        clients.delete(client);
        ctx.metrics.wsClients.set(clients.size);
      });
      socket.on('error', () => socket.terminate());
      // A fresh client starts with the current state of every road.
      allLive(ctx.db)
        .then((live) => {
          for (const data of live.values())
            if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'traffic', data }));
        })
        .catch(() => undefined);
    },
  );
}
