import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ack } from '@cityflow/protocol';
import { topics } from '@cityflow/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { type RunningHub, startHub } from '../src/hub.js';
import type { HubOptions } from '../src/config.js';

/**
 * A small grid city: `cols`×`rows` intersections 200 m apart, two-way roads `Rxy-x'y'`, one sensor per
 * road `S-<road>`; intersections with x < cols/2 belong to agent A1, the rest to A2.
 */
export function gridNetwork(cols = 3, rows = 2) {
  const features: unknown[] = [];
  const node = (x: number, y: number) => `N${x}${y}`;
  const agentOf = (x: number) => (x < cols / 2 ? 'A1' : 'A2');
  const pos = (x: number, y: number) => [2.35 + x * 0.0027, 48.85 + y * 0.0018];
  for (let x = 0; x < cols; x++)
    for (let y = 0; y < rows; y++)
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: pos(x, y) },
        properties: { kind: 'intersection', node_id: node(x, y), agent_id: agentOf(x) },
      });
  const road = (x1: number, y1: number, x2: number, y2: number) => {
    const id = `R${x1}${y1}-${x2}${y2}`;
    features.push({
      type: 'Feature',
      geometry: { type: 'LineString', coordinates: [pos(x1, y1), pos(x2, y2)] },
      properties: {
        kind: 'road',
        road_id: id,
        from_node: node(x1, y1),
        to_node: node(x2, y2),
        length_m: 200,
        lanes: 2,
        speed_limit_kmh: 50,
      },
    });
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: pos(x1, y1) },
      properties: { kind: 'sensor', sensor_id: `S-${id}`, road_id: id, agent_id: agentOf(x1) },
    });
  };
  for (let x = 0; x < cols; x++)
    for (let y = 0; y < rows; y++) {
      if (x + 1 < cols) {
        road(x, y, x + 1, y);
        road(x + 1, y, x, y);
      }
      if (y + 1 < rows) {
        road(x, y, x, y + 1);
        road(x, y + 1, x, y);
      }
    }
  return { type: 'FeatureCollection', features };
}

export function writeNetwork(net: unknown = gridNetwork()): string {
  const dir = mkdtempSync(join(tmpdir(), 'cityflow-hub-net-'));
  const file = join(dir, 'network.geojson');
  writeFileSync(file, JSON.stringify(net));
  return file;
}

/** One Redis prefix per test file: files running in parallel (and other deployments) never collide. */
export const TEST_REDIS_PREFIX = `cftest-${randomBytes(4).toString('hex')}:`;

export async function testHub(opts: HubOptions = {}): Promise<RunningHub> {
  return startHub({
    databaseUrl: 'pglite://memory',
    mqttPort: 0,
    port: 0,
    host: '127.0.0.1',
    jwtSecret: 'test-secret-0123456789abcdef',
    networkFile: writeNetwork(),
    logLevel: 'silent',
    cycleIntervalS: 3600,
    redisPrefix: TEST_REDIS_PREFIX,
    // tests create their users through the API (viewers); the default (closed) is tested on its own
    openRegistration: true,
    ...opts,
  });
}

/** A real mqtt.js client acting as an agent, with its last will, collecting acks. */
export async function agentClient(
  hub: { mqttUrl: string },
  creds: { agent_id: string; username: string; password: string },
) {
  const acks: Ack[] = [];
  const received: Array<{ topic: string; payload: unknown }> = [];
  const client: MqttClient = await mqtt.connectAsync(hub.mqttUrl, {
    clientId: `agent:${creds.agent_id}`,
    username: creds.username,
    password: creds.password,
    reconnectPeriod: 0,
    will: {
      topic: topics.status(creds.agent_id),
      payload: Buffer.from(
        JSON.stringify({
          v: 1,
          agent_id: creds.agent_id,
          state: 'offline',
          ts: new Date().toISOString(),
          version: 'test',
        }),
      ),
      qos: 1,
      retain: true,
    },
  });
  client.on('message', (topic, payload) => {
    const v = JSON.parse(payload.toString());
    received.push({ topic, payload: v });
    if (topic.includes('/ack/')) acks.push(v as Ack);
  });
  await client.subscribeAsync(
    [topics.ackWildcard(creds.agent_id), topics.config(creds.agent_id), topics.advice(creds.agent_id)],
    { qos: 1 },
  );
  return { client, acks, received };
}

export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function summary(seq: number, roadId: string, minute: string, over: Record<string, unknown> = {}) {
  return {
    seq,
    sensor_id: `S-${roadId}`,
    road_id: roadId,
    minute,
    count: 10,
    null_speed_count: 2,
    speed_mean: 40,
    speed_min: 30,
    speed_max: 50,
    flow_mean: 600,
    occupancy_mean: 0.1,
    ...over,
  };
}

export function summaryBatch(agentId: string, items: unknown[], skipped?: Array<[number, number]>) {
  return {
    v: 1,
    agent_id: agentId,
    stream: 'summary',
    sent_at: new Date().toISOString(),
    items,
    ...(skipped ? { skipped } : {}),
  };
}

/** Opens /ws/live with a token; `closed` resolves with the close code. */
export async function openLive(apiUrl: string, token: string) {
  const ws = new WebSocket(`${apiUrl.replace('http', 'ws')}/ws/live?token=${token}`);
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, closed };
}
