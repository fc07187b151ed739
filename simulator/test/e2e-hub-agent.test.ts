/**
 * Hub + one agent + a sensor publishing over real MQTT sockets, read back through the HTTP API and
 * the WebSocket (issue 2: "an integration test that runs hub + one agent + MQTT publishes over real
 * sockets and reads the result back through the HTTP API and the WebSocket").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '@cityflow/edge-agent';
import { startHub } from '@cityflow/hub';
import { topics } from '@cityflow/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { closedMinute, getJson, iso, login, waitUntil, writeFixtureNetwork } from './helpers/http.js';

const ADMIN = { email: 'admin@e2e.test', password: 'admin-password-1' };

describe('e2e: sensor -> agent -> hub -> API and WebSocket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-e2e-'));
  let hub: Awaited<ReturnType<typeof startHub>>;
  let agent: Awaited<ReturnType<typeof startAgent>>;
  let sensor: mqtt.MqttClient;
  let token: string;
  const ws: { socket?: WebSocket; messages: Array<{ type: string; data: any }> } = { messages: [] };

  beforeAll(async () => {
    hub = await startHub({
      databaseUrl: 'pglite://memory',
      port: 0,
      mqttPort: 0,
      jwtSecret: 'e2e-secret-e2e-secret-e2e-secret-0123',
      networkFile: writeFixtureNetwork(dir),
      clock: 'wall',
      adminEmail: ADMIN.email,
      adminPassword: ADMIN.password,
      logLevel: 'warn',
    });
    const cred = await hub.addAgent('agent-1');
    agent = await startAgent({
      agentId: 'agent-1',
      dataDir: join(dir, 'agent-1'),
      mqttPort: 0,
      httpPort: 0,
      hubUrl: hub.mqttUrl,
      hubUsername: cred.username,
      hubPassword: cred.password,
      clock: 'wall',
      liveIntervalS: 1,
    });
    await waitUntil(
      'the agent to connect to the hub',
      async () => (await getJson(`${agent.httpUrl}/health`)).body?.hub_connected === true,
    );
    token = await login(hub.apiUrl, ADMIN.email, ADMIN.password);
    const socket = new WebSocket(
      `${hub.apiUrl.replace(/^http/, 'ws')}/ws/live?token=${encodeURIComponent(token)}`,
    );
    socket.on('message', (raw) => ws.messages.push(JSON.parse(raw.toString())));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    ws.socket = socket;
    sensor = await mqtt.connectAsync(agent.mqttUrl, { clientId: 'e2e-sensor' });
  });

  afterAll(async () => {
    ws.socket?.close();
    await sensor?.endAsync();
    await agent?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const publish = (r: Record<string, unknown>) =>
    sensor.publishAsync(topics.sensor(r.sensor_id as string), JSON.stringify(r), { qos: 1 });

  it('a closed minute of readings appears in /api/traffic/history with the right samples count', async () => {
    const minute = closedMinute(2);
    const readings = [
      {
        ts: iso(minute + 5_000),
        sensor_id: 's-AB-0',
        road_id: 'AB',
        speed_kmh: 40,
        flow_rate: 600,
        occupancy: 0.1,
      },
      {
        ts: iso(minute + 25_000),
        sensor_id: 's-AB-0',
        road_id: 'AB',
        speed_kmh: 30,
        flow_rate: 720,
        occupancy: 0.2,
      },
      {
        ts: iso(minute + 45_000),
        sensor_id: 's-AB-0',
        road_id: 'AB',
        speed_kmh: null,
        flow_rate: 0,
        occupancy: 0.0,
      },
      {
        ts: iso(minute + 15_000),
        sensor_id: 's-AB-1',
        road_id: 'AB',
        speed_kmh: 20,
        flow_rate: 900,
        occupancy: 0.3,
      },
      // Another road in the same minute must not leak into AB's bucket.
      {
        ts: iso(minute + 10_000),
        sensor_id: 's-BA-0',
        road_id: 'BA',
        speed_kmh: 45,
        flow_rate: 300,
        occupancy: 0.05,
      },
    ];
    for (const r of readings) await publish(r);
    const url = `${hub.apiUrl}/api/traffic/history?road_id=AB&bucket=1m&from=${iso(minute)}&to=${iso(minute + 60_000)}`;
    const page = await waitUntil(
      'the AB minute in history',
      async () => {
        const r = await getJson(url, token);
        return r.body?.data?.[0]?.samples === 4 ? r.body : undefined;
      },
      60_000,
    );
    expect(page.data).toHaveLength(1);
    const b = page.data[0];
    expect(b).toMatchObject({ road_id: 'AB', samples: 4 });
    expect(Date.parse(b.ts)).toBe(minute);
    // Non-null speeds only: (40 + 30 + 20) / 3 = 30 (the null speed still counts as a sample).
    expect(b.speed_kmh).toBeCloseTo(30, 5);
    const ba = await getJson(
      `${hub.apiUrl}/api/traffic/history?road_id=BA&bucket=1m&from=${iso(minute)}&to=${iso(minute + 60_000)}`,
      token,
    );
    expect(ba.body.data.map((x: { samples: number }) => x.samples)).toEqual([1]);
  });

  it('a live reading reaches /api/traffic/live and the WebSocket as a traffic message', async () => {
    await publish({
      ts: iso(Date.now()),
      sensor_id: 's-EB-0',
      road_id: 'EB',
      speed_kmh: 8,
      flow_rate: 240,
      occupancy: 0.55,
    });
    const live = await waitUntil('road EB in /api/traffic/live', async () => {
      const r = await getJson(`${hub.apiUrl}/api/traffic/live?road_id=EB`, token);
      return r.body?.data?.find((x: { road_id: string }) => x.road_id === 'EB');
    });
    expect(live.speed_kmh).toBeCloseTo(8, 5);
    // 8 km/h on a 50 km/h road and 55 % occupancy: congested by the protocol's formula.
    expect(live.congestion_score).toBeGreaterThanOrEqual(0.5);
    const msg = await waitUntil('a traffic message for EB on /ws/live', async () =>
      ws.messages.find((m) => m.type === 'traffic' && m.data?.road_id === 'EB'),
    );
    expect(msg.data.speed_kmh).toBeCloseTo(8, 5);
    expect(msg.data.congestion_score).toBeGreaterThanOrEqual(0.5);
  });

  it('the WebSocket refuses a connection without a valid token', async () => {
    const bad = new WebSocket(`${hub.apiUrl.replace(/^http/, 'ws')}/ws/live?token=forged`);
    const outcome = await new Promise<string>((resolve) => {
      bad.once('open', () => resolve('open'));
      bad.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
      bad.once('error', () => resolve('error'));
    });
    bad.terminate();
    expect(outcome).toBe('http 401');
  });
});
