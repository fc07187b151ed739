import type { LiveMessage } from '@cityflow/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { TokenClaims } from '../auth/tokens.js';
import { allLive } from '../store/traffic.js';
import { type AppContext, requireRole } from './context.js';
import { decodeClientFrame } from './ws-frames.js';

interface Client {
  socket: WebSocket;
  /** null = every road */
  roads: Set<string> | null;
  alive: boolean;
  /** the socket's token: closed (4001) when it is revoked, its user's version changes, or it expires */
  claims: TokenClaims;
  expiry: NodeJS.Timeout | null;
}

/** setTimeout's limit (~24.8 days); tokens live 12 h, but the timer must never fire early by overflow. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const LIVE_TYPES = new Set(['traffic', 'prediction', 'reroute', 'incident', 'agent']);

function roadsOf(m: LiveMessage): string[] | null {
  if (m.type === 'traffic' || m.type === 'prediction' || m.type === 'incident') return [m.data.road_id];
  if (m.type === 'reroute') return [m.data.route_id, ...m.data.path];
  return null;
}

/**
 * `/ws/live?token=`: messages `{type, data}`. A client may send `{"type":"subscribe","roads":["R1",...]}`
 * (or `"roads":"all"`) to receive only those roads (acknowledged by `{"type":"subscribed","data":{"roads":...}}`);
 * agent messages always pass. A socket whose token is revoked (logout, role change, password reset, user
 * removal — on any replica) or expires is closed with code 4001. Heartbeat: a ping every
 * 30 s, a client that missed the previous pong is terminated.
 */
export async function wsLive(app: FastifyInstance, ctx: AppContext) {
  const clients = new Set<Client>();

  const revokeGone = () => {
    for (const c of clients) if (!ctx.revocations.valid(c.claims)) c.socket.close(4001, 'token revoked');
  };
  const offRevocations = ctx.revocations.onChange(revokeGone);
  const unsubscribe = ctx.bus.subscribe((m) => {
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
    offRevocations();
    for (const c of clients) c.socket.terminate();
    clients.clear();
  });

  app.get(
    '/ws/live',
    { websocket: true, preValidation: requireRole(ctx, 'viewer'), schema: { hide: true } },
    (socket: WebSocket, req: FastifyRequest) => {
      const claims = req.claims!;
      // Revoked between the upgrade's check and now (e.g. on another replica): close at once.
      if (!ctx.revocations.valid(claims)) {
        socket.close(4001, 'token revoked');
        return;
      }
      const client: Client = { socket, roads: null, alive: true, claims, expiry: null };
      const closeAtExpiry = () => {
        const left = claims.exp * 1000 - Date.now();
        client.expiry =
          left > MAX_TIMER_MS
            ? setTimeout(closeAtExpiry, MAX_TIMER_MS)
            : setTimeout(() => socket.close(4001, 'token expired'), Math.max(0, left));
        client.expiry.unref();
      };
      closeAtExpiry();
      clients.add(client);
      ctx.metrics.wsClients.set(clients.size);
      socket.on('pong', () => {
        client.alive = true;
      });
      socket.on('message', (raw) => {
        const d = decodeClientFrame(raw as Buffer);
        if (!d.ok)
          return socket.send(
            JSON.stringify({ type: 'error', data: { code: 'CF_INVALID_MESSAGE', message: d.message } }),
          );
        if (d.frame.type === 'ping')
          return socket.send(JSON.stringify({ type: 'pong', data: { ts: new Date().toISOString() } }));
        client.roads = d.frame.roads === 'all' ? null : new Set(d.frame.roads);
        // The ack follows the change: from this frame on, only these roads arrive.
        socket.send(
          JSON.stringify({
            type: 'subscribed',
            data: { roads: client.roads ? [...client.roads] : 'all' },
          }),
        );
      });
      socket.on('close', () => {
        if (client.expiry) clearTimeout(client.expiry);
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
