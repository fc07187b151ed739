/**
 * The production wiring on a real Mosquitto (CITYFLOW_TEST_MQTT_URL): the hub reads its uplink
 * through shared subscriptions on an external broker and an agent forwards to that broker.
 * Ids are unique per run because the shared broker keeps retained messages between runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '@cityflow/edge-agent';
import { startHub } from '@cityflow/hub';
import { topics } from '@cityflow/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithService } from '../../test-support/services.js';
import { closedMinute, getJson, iso, login, waitUntil } from './helpers/http.js';
import { fixtureGeoJSON } from './helpers/network.js';

const ADMIN = { email: 'admin@ext.test', password: 'admin-password-1' };

describeWithService(
  'MQTT',
  'e2e on an external Mosquitto: sensor -> agent -> Mosquitto -> hub -> API',
  (brokerUrl) => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-ext-'));
    const run = randomBytes(4).toString('hex');
    const agentId = `agent-x${run}`;
    let hub: Awaited<ReturnType<typeof startHub>>;
    let agent: Awaited<ReturnType<typeof startAgent>>;
    let sensor: mqtt.MqttClient;
    let token: string;

    beforeAll(async () => {
      const net = JSON.stringify(fixtureGeoJSON()).replaceAll('"agent-1"', JSON.stringify(agentId));
      const networkFile = join(dir, 'network.geojson');
      writeFileSync(networkFile, net);
      hub = await startHub({
        databaseUrl: 'pglite://memory',
        mqttUrl: brokerUrl,
        port: 0,
        jwtSecret: 'ext-secret-ext-secret-ext-secret-0123',
        networkFile,
        clock: 'wall',
        adminEmail: ADMIN.email,
        adminPassword: ADMIN.password,
        logLevel: 'warn',
      });
      const cred = await hub.addAgent(agentId);
      agent = await startAgent({
        agentId,
        dataDir: join(dir, agentId),
        mqttPort: 0,
        httpPort: 0,
        hubUrl: brokerUrl,
        hubUsername: cred.username,
        hubPassword: cred.password,
        clock: 'wall',
        liveIntervalS: 1,
      });
      await waitUntil(
        'the agent to connect to the broker',
        async () => (await getJson(`${agent.httpUrl}/health`)).body?.hub_connected === true,
      );
      token = await login(hub.apiUrl, ADMIN.email, ADMIN.password);
      sensor = await mqtt.connectAsync(agent.mqttUrl, { clientId: `ext-sensor-${run}` });
    });

    afterAll(async () => {
      await sensor?.endAsync();
      await agent?.stop();
      await hub?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a closed minute reaches /api/traffic/history through the external broker, samples exact', async () => {
      const minute = closedMinute(2);
      const speeds = [40, 30, null];
      for (const [i, speed] of speeds.entries())
        await sensor.publishAsync(
          topics.sensor('s-AB-0'),
          JSON.stringify({
            ts: iso(minute + 5_000 + i * 10_000),
            sensor_id: 's-AB-0',
            road_id: 'AB',
            speed_kmh: speed,
            flow_rate: 600,
            occupancy: 0.1,
          }),
          { qos: 1 },
        );
      const url = `${hub.apiUrl}/api/traffic/history?road_id=AB&bucket=1m&from=${iso(minute)}&to=${iso(minute + 60_000)}`;
      const page = await waitUntil(
        'the AB minute in history',
        async () => {
          const r = await getJson(url, token);
          return r.body?.data?.[0]?.samples === 3 ? r.body : undefined;
        },
        60_000,
      );
      expect(page.data[0].speed_kmh).toBeCloseTo(35, 5);
      const agents = await getJson(`${hub.apiUrl}/api/agents?limit=200`, token);
      expect(agents.body.data.find((a: { agent_id: string }) => a.agent_id === agentId)?.online).toBe(true);
    });
  },
);
