/**
 * The live connection that runs in the console's live worker (web/src/live/live-connection.ts), over
 * real sockets: a `ws` server in the hub's place and `ws` as the client (the worker uses the
 * browser's WebSocket; the browser tests in console.test.ts run that one against the real hub).
 */
import type { AddressInfo } from 'node:net';
import type { LiveMessage } from '@cityflow/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  LiveConnection,
  type LiveSink,
  type LiveState,
  type SocketLike,
  WS_REVOKED,
} from '../web/src/live/live-connection.js';

const traffic = (i: number) =>
  JSON.stringify({
    type: 'traffic',
    data: {
      ts: new Date(1e12 + i).toISOString(),
      road_id: `R${i}`,
      speed_kmh: 30,
      flow_rate: 600,
      occupancy: 0.2,
      congestion_score: 0.3,
      sensors: 1,
    },
  });
const agent = JSON.stringify({ type: 'agent', data: { agent_id: 'agent-1', online: false } });

interface Recorded {
  batches: { messages: LiveMessage[]; dropped: number; at: number }[];
  states: LiveState[];
  revoked: number;
}

const servers: WebSocketServer[] = [];
const connections: LiveConnection[] = [];
afterEach(async () => {
  for (const c of connections.splice(0)) c.stop();
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise((r) => s.close(r));
  }
});

async function setup(batchMs: number) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  const sockets: import('ws').WebSocket[] = [];
  const closes: number[] = [];
  server.on('connection', (s) => {
    sockets.push(s);
    s.on('close', (code) => closes.push(code));
  });
  const rec: Recorded = { batches: [], states: [], revoked: 0 };
  const sink: LiveSink = {
    batch: (messages, dropped) => rec.batches.push({ messages, dropped, at: Date.now() }),
    state: (s) => rec.states.push(s),
    revoked: () => rec.revoked++,
  };
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/live`;
  const conn = new LiveConnection(url, sink, (u) => new WebSocket(u) as unknown as SocketLike, batchMs);
  connections.push(conn);
  conn.start();
  const connected = async (n: number) => {
    await expect.poll(() => sockets.length, { timeout: 5000 }).toBe(n);
    await expect.poll(() => rec.states.at(-1), { timeout: 5000 }).toBe('live');
    return sockets[n - 1]!;
  };
  return { rec, conn, sockets, closes, connected };
}

describe('live connection (the live worker)', () => {
  it('hands a burst of traffic frames on in a few batches, in order, and counts malformed frames', async () => {
    const { rec, connected } = await setup(100);
    const s = await connected(1);
    s.send('{not json');
    s.send(JSON.stringify({ type: 'traffic' })); // no data
    for (let i = 0; i < 600; i++) s.send(traffic(i));
    await expect
      .poll(() => rec.batches.reduce((n, b) => n + b.messages.length, 0), { timeout: 5000 })
      .toBe(600);
    // One message to the page per batch, not per frame.
    expect(rec.batches.length).toBeLessThanOrEqual(3);
    const ids = rec.batches.flatMap((b) => b.messages.map((m) => (m.data as { road_id: string }).road_id));
    expect(ids).toEqual(Array.from({ length: 600 }, (_, i) => `R${i}`));
    expect(rec.batches.at(-1)!.dropped).toBe(2);
  });

  it('hands an agent frame on at once, after the traffic frames that came before it', async () => {
    // A batch interval far longer than the test: only the agent frame can make the batch go.
    const { rec, connected } = await setup(60_000);
    const s = await connected(1);
    for (let i = 0; i < 3; i++) s.send(traffic(i));
    s.send(agent);
    await expect.poll(() => rec.batches.length, { timeout: 3000 }).toBe(1);
    expect(rec.batches[0]!.messages.map((m) => m.type)).toEqual(['traffic', 'traffic', 'traffic', 'agent']);
  });

  it('reconnects after the hub drops the connection, and delivers what came before the drop', async () => {
    const { rec, connected } = await setup(60_000);
    const first = await connected(1);
    first.send(traffic(1));
    first.terminate();
    await connected(2);
    expect(rec.states).toEqual(['connecting', 'live', 'retrying', 'connecting', 'live']);
    expect(rec.batches.flatMap((b) => b.messages)).toHaveLength(1);
  });

  it('stops for good on a 4001 close (token revoked) and says so', async () => {
    const { rec, sockets, connected } = await setup(100);
    const s = await connected(1);
    s.close(WS_REVOKED, 'token revoked');
    await expect.poll(() => rec.revoked, { timeout: 3000 }).toBe(1);
    // Longer than the first retry's longest delay (500 ms): no second connection comes.
    await new Promise((r) => setTimeout(r, 800));
    expect(sockets).toHaveLength(1);
    expect(rec.states).not.toContain('retrying');
  });

  it('on stop closes the socket with 1000, drops what is pending and never reconnects', async () => {
    const { rec, conn, sockets, closes, connected } = await setup(60_000);
    const s = await connected(1);
    s.send(traffic(1));
    await new Promise((r) => setTimeout(r, 100));
    conn.stop();
    await expect.poll(() => closes, { timeout: 3000 }).toEqual([1000]);
    await new Promise((r) => setTimeout(r, 800));
    expect(sockets).toHaveLength(1);
    expect(rec.batches).toHaveLength(0);
  });
});
