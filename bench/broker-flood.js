#!/usr/bin/env node
/**
 * Both brokers under a flood, as real processes (issue 9): 50 connections each announcing a 256 MB
 * CONNECT and streaming up to 50 MB, plus 1,000 retained 512 KB publishes (anonymous on the agent's
 * sensor broker; as an authenticated agent on the hub, to its status topic — the one it may retain).
 * Measured: each process's peak RSS (VmHWM), and that a normal client still gets its PUBACK.
 * Bounds: agent < 150 MB, hub < 500 MB. Prints one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@cityflow/protocol';
import { spawnAgent } from './lib/agent-fixture.js';
import { memoryOf, oversizeFlood, pubackMs, refusals, retainedFlood } from './lib/flood.js';
import { addAgentViaApi, freshPgSchema, spawnHub, stopChild } from './lib/hub-process.js';

const CONNECTIONS = Number(process.env.FLOOD_CONNECTIONS ?? 50);
const STREAM_BYTES = Number(process.env.FLOOD_STREAM_MB ?? 50) * 1024 * 1024;
const RETAINED = Number(process.env.FLOOD_RETAINED ?? 1000);
const ANNOUNCE = 256 * 1024 * 1024 - 1;
const RETAINED_SIZE = 512 * 1024;

const reading = (id) =>
  JSON.stringify({
    ts: new Date().toISOString(),
    sensor_id: id,
    road_id: 'R-1',
    speed_kmh: 40,
    flow_rate: 600,
    occupancy: 0.1,
  });

async function floodAgent() {
  const dir = mkdtempSync(join(tmpdir(), 'cf-flood-agent-'));
  const { child, ready } = await spawnAgent([
    '--agent-id',
    'F-1',
    '--data-dir',
    dir,
    '--mqtt-port',
    '0',
    '--http-port',
    '0',
  ]);
  try {
    const port = Number(new URL(ready.mqtt_url).port);
    const before = memoryOf(child.pid);
    const [oversize, retained] = await Promise.all([
      oversizeFlood(port, { connections: CONNECTIONS, announce: ANNOUNCE, maxBytes: STREAM_BYTES }),
      retainedFlood(ready.mqtt_url, {
        count: RETAINED,
        size: RETAINED_SIZE,
        topic: (i) => topics.sensor(`X-${i}`),
      }),
    ]);
    const puback = await pubackMs(ready.mqtt_url, topics.sensor('S-1'), reading('S-1'));
    const metrics = await (await fetch(`${ready.http_url}/metrics`)).text();
    const m = memoryOf(child.pid);
    return {
      rss_before_mb: Math.round(before.rss_bytes / 2 ** 20),
      peak_rss_mb: Math.round(m.peak_rss_bytes / 2 ** 20),
      bound_mb: 150,
      within_bound: m.peak_rss_bytes < 150 * 2 ** 20,
      normal_sensor_puback_ms: puback,
      oversize,
      retained,
      refused_packet_size: refusals(metrics, 'cityflow_agent_broker_refused_total', 'packet_size'),
    };
  } finally {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const PG_URL =
  process.env.BENCH_PG_URL ?? process.env.CITYFLOW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function floodHub() {
  const db = await freshPgSchema(PG_URL);
  const { child, apiUrl, mqttUrl } = await spawnHub({ DATABASE_URL: db.databaseUrl });
  try {
    const port = Number(new URL(mqttUrl).port);
    const creds = await addAgentViaApi(apiUrl, 'F-1');
    const normal = await addAgentViaApi(apiUrl, 'N-1');
    const as = (c) => ({ clientId: `agent:${c.agent_id}`, username: c.username, password: c.password });
    const before = memoryOf(child.pid);
    const [oversize, retained] = await Promise.all([
      oversizeFlood(port, { connections: CONNECTIONS, announce: ANNOUNCE, maxBytes: STREAM_BYTES }),
      retainedFlood(mqttUrl, {
        count: RETAINED,
        size: RETAINED_SIZE,
        topic: () => topics.status('F-1'),
        options: as(creds),
      }),
    ]);
    const puback = await pubackMs(mqttUrl, topics.uplink('N-1', 'health'), '{}', as(normal));
    const metrics = await (await fetch(`${apiUrl}/metrics`)).text();
    const m = memoryOf(child.pid);
    return {
      rss_before_mb: Math.round(before.rss_bytes / 2 ** 20),
      peak_rss_mb: Math.round(m.peak_rss_bytes / 2 ** 20),
      bound_mb: 500,
      within_bound: m.peak_rss_bytes < 500 * 2 ** 20,
      normal_agent_puback_ms: puback,
      oversize,
      retained,
      refused_packet_size: refusals(metrics, 'cityflow_hub_broker_refused_total', 'packet_size'),
    };
  } finally {
    await stopChild(child);
    await db.drop();
  }
}

const agent = await floodAgent();
const hub = await floodHub();
console.log(
  JSON.stringify({
    name: 'broker-flood',
    connections: CONNECTIONS,
    stream_mb: STREAM_BYTES / 2 ** 20,
    retained_publishes: RETAINED,
    agent,
    hub,
  }),
);
process.exit(agent.within_bound && hub.within_bound ? 0 : 1);
