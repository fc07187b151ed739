import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@cityflow/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../src/db/db.js';
import { migrate } from '../src/db/migrations.js';
import type { RunningHub } from '../src/hub.js';
import { writeMosquittoConfig } from '../src/mqtt/mosquitto-config.js';
import { createAgent } from '../src/store/agents.js';
import { agentClient, summary, summaryBatch, testHub, until } from './helpers.js';
import { startMosquitto } from './mosquitto.js';

describe('external Mosquitto configured by the hub (password file + ACL), hub on MQTT_URL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cityflow-mosq-'));
  const dbUrl = `pglite://${join(dir, 'db')}`;
  let broker: Awaited<ReturnType<typeof startMosquitto>>;
  let hub: RunningHub;
  const creds: Record<string, { agent_id: string; username: string; password: string }> = {};

  beforeAll(async () => {
    const db = await openDb(dbUrl);
    await migrate(db);
    for (const id of ['A1', 'A2']) creds[id] = (await createAgent(db, id))!;
    await writeMosquittoConfig(db, dir, 'hub-secret-1');
    await db.close();
    broker = await startMosquitto(dir);
    hub = await testHub({
      databaseUrl: dbUrl,
      mqttUrl: `mqtt://cityflow-hub:hub-secret-1@127.0.0.1:${broker.port}`,
    });
  });
  afterAll(async () => {
    await hub?.stop();
    await broker?.stop();
  });

  it('an agent with its credentials gets its batch stored and acked through Mosquitto', async () => {
    const a1 = await agentClient(hub, creds.A1!);
    await a1.client.publishAsync(
      topics.uplink('A1', 'summary'),
      JSON.stringify(summaryBatch('A1', [summary(1, 'R00-10', '2026-03-02T08:00:00Z')])),
      { qos: 1 },
    );
    await until(() => a1.acks.some((a) => a.watermark === 1));
    await a1.client.endAsync();
  });

  it('Mosquitto refuses a wrong password, and drops what an agent publishes or reads under another id', async () => {
    await expect(
      mqtt.connectAsync(hub.mqttUrl, {
        clientId: 'agent:A1',
        username: 'A1',
        password: 'nope',
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Bad username or password|Not authorized/i);
    const a1 = await agentClient(hub, creds.A1!);
    const a2 = await agentClient(hub, creds.A2!);
    await a1.client.subscribeAsync(topics.ackWildcard('A2'), { qos: 1 });
    await a1.client.publishAsync(
      topics.uplink('A2', 'summary'),
      JSON.stringify(summaryBatch('A2', [summary(1, 'R20-10', '2026-03-02T08:00:00Z')])),
      { qos: 1 },
    );
    await new Promise((r) => setTimeout(r, 300));
    await hub.ingest.idle();
    const rows = await hub.db.query("SELECT 1 FROM traffic_minute WHERE road_id = 'R20-10'");
    expect(rows.rows).toHaveLength(0);
    // A2's own publish goes through; A1, subscribed to A2's acks, never sees them
    await a2.client.publishAsync(
      topics.uplink('A2', 'summary'),
      JSON.stringify(summaryBatch('A2', [summary(1, 'R20-10', '2026-03-02T08:00:00Z')])),
      { qos: 1 },
    );
    await until(() => a2.acks.some((a) => a.watermark === 1));
    await new Promise((r) => setTimeout(r, 200));
    expect(a1.received.filter((m) => m.topic.includes('/A2/'))).toHaveLength(0);
    await a1.client.endAsync();
    await a2.client.endAsync();
  });
});
