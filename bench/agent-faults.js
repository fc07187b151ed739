#!/usr/bin/env node
/**
 * Fault test, real processes: the link between an agent (built `cityflow-agent run`, child process)
 * and a real hub (`startHub`, PGlite in memory, embedded broker) goes through a TCP proxy that is cut
 * and restored every 2 s for 60 s (BENCH_FLAP_S) while sensors keep publishing readings (QoS 1) on
 * the data clock (one data-second every 50 ms). Then the link stays up until the hub's watermark
 * covers every summary, and `/api/traffic/history` (1-minute buckets, every road) must show exactly
 * the readings sent: no loss, no duplicate. Prints one JSON line. Needs `npx tsc -b`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '@cityflow/hub';
import mqtt from 'mqtt';
import { lineNetwork, spawnAgent } from './lib/agent-fixture.js';
import { linkProxy } from './lib/link-proxy.js';

const AGENT = 'BENCH-F';
const SENSORS = 16;
const ROADS = 8;
const FLAP_S = Number(process.env.BENCH_FLAP_S ?? 60);
const STEP_MS = 50; // one data-second of readings per 50 ms
const T0 = Date.UTC(2026, 1, 9, 6, 0, 0);
const deadline = setTimeout(() => {
  console.error('agent-faults: time bound reached');
  process.exit(2);
}, 5 * 60_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const reading = (s, t) =>
  `{"ts":"${new Date(T0 + t * 1000).toISOString()}","sensor_id":"FS-${s}","road_id":"FR-${s % ROADS}","speed_kmh":${30 + ((t + s) % 25)},"flow_rate":${400 + (t % 300)},"occupancy":0.${(t + s) % 9}}`;

const dir = mkdtempSync(join(tmpdir(), 'cf-bench-faults-'));
let hub;
let proxy;
let agent;
try {
  const netFile = join(dir, 'network.geojson');
  writeFileSync(
    netFile,
    JSON.stringify(lineNetwork({ prefix: 'F', roads: ROADS, sensors: SENSORS, agentId: AGENT })),
  );
  hub = await startHub({
    databaseUrl: 'pglite://memory',
    mqttPort: 0,
    port: 0,
    host: '127.0.0.1',
    networkFile: netFile,
    logLevel: 'silent',
    clock: 'data',
    cycleIntervalS: 3600,
    openRegistration: true,
  });
  const cred = await hub.addAgent(AGENT);
  proxy = await linkProxy(hub.mqttUrl);
  writeFileSync(
    join(dir, 'agent.json'),
    JSON.stringify({
      logLevel: 'error',
      liveIntervalS: 3600,
      forecastIntervalS: 3600,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      ackTimeoutS: 2,
    }),
  );
  agent = await spawnAgent([
    ...['--config', join(dir, 'agent.json'), '--agent-id', AGENT, '--data-dir', join(dir, 'agent')],
    ...['--mqtt-port', '0', '--http-port', '0', '--clock', 'data', '--hub-url', proxy.url],
    ...['--hub-username', cred.username, '--hub-password', cred.password],
  ]);
  const status = async () => (await fetch(`${agent.ready.http_url}/status`)).json();
  const c = await mqtt.connectAsync(agent.ready.mqtt_url, { reconnectPeriod: 0 });

  // flap the link while the sensors publish
  let cuts = 0;
  const flapper = setInterval(() => {
    if (cuts % 2 === 0) proxy.cut();
    else proxy.restore();
    cuts++;
  }, 2000);
  const t0 = performance.now();
  let t = 0;
  while (performance.now() - t0 < FLAP_S * 1000) {
    await Promise.all(
      Array.from({ length: SENSORS }, (_, s) =>
        c.publishAsync(`cityflow/traffic/FS-${s}`, reading(s, t), { qos: 1 }),
      ),
    );
    t++;
    const wait = t0 + t * STEP_MS - performance.now();
    if (wait > 0) await sleep(wait);
  }
  clearInterval(flapper);
  const atEnd = (await status()).streams.summary;
  proxy.restore();
  const linkCuts = Math.ceil(cuts / 2);
  // close every whole minute sent: one reading per sensor well past the last one; the history
  // checked covers the whole minutes (readings_sent), the agent must have stored all (t + 1) × SENSORS
  const minutes = Math.floor(t / 60);
  const sent = minutes * 60 * SENSORS;
  const closeT = (minutes + 1) * 60 + 30;
  await Promise.all(
    Array.from({ length: SENSORS }, (_, s) =>
      c.publishAsync(`cityflow/traffic/FS-${s}`, reading(s, closeT), { qos: 1 }),
    ),
  );
  await c.endAsync();

  // the link stays up: wait until the hub's watermark covers every summary
  let st;
  const tDrain = performance.now();
  for (let i = 0; i < 600; i++) {
    st = await status();
    const sum = st.streams.summary;
    if (sum.highest_seq >= minutes * SENSORS && sum.watermark >= sum.highest_seq) break;
    await sleep(100);
  }
  const drainS = (performance.now() - tDrain) / 1000;

  const reg = await fetch(`${hub.apiUrl}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'faults@city.test', password: 'password123' }),
  });
  const { token } = await reg.json();
  const from = new Date(T0).toISOString();
  const to = new Date(T0 + minutes * 60_000).toISOString();
  let buckets = [];
  let cursor = null;
  do {
    const q = `from=${from}&to=${to}&bucket=1m&limit=200${cursor ? `&before=${cursor}` : ''}`;
    const page = await (
      await fetch(`${hub.apiUrl}/api/traffic/history?${q}`, { headers: { authorization: `Bearer ${token}` } })
    ).json();
    if (!Array.isArray(page.data)) throw new Error(`history: ${JSON.stringify(page)}`);
    buckets = buckets.concat(page.data);
    cursor = page.has_more ? page.next_cursor : null;
  } while (cursor);
  const samples = buckets.reduce((a, b) => a + b.samples, 0);
  // per road-minute: every one must hold exactly SENSORS / ROADS × 60 samples
  const expectedPerBucket = (SENSORS / ROADS) * 60;
  const wrong = buckets.filter((b) => b.samples !== expectedPerBucket).length;
  const pass =
    samples === sent &&
    buckets.length === minutes * ROADS &&
    wrong === 0 &&
    st?.readings_total === (t + 1) * SENSORS; // every reading published was stored by the agent
  console.log(
    JSON.stringify({
      name: 'agent-faults',
      description: `link agent<->hub (TCP proxy) cut and restored every 2 s for ${FLAP_S} s while ${SENSORS} sensors publish on the data clock; /api/traffic/history samples vs readings sent`,
      metrics: {
        link_cuts: linkCuts,
        readings_sent: sent,
        history_samples: samples,
        lost: Math.max(0, sent - samples),
        duplicated: Math.max(0, samples - sent),
        road_minutes: buckets.length,
        road_minutes_expected: minutes * ROADS,
        road_minutes_wrong: wrong,
        agent_hub_reconnects: st?.hub_reconnects ?? null,
        parked: st?.parked_total ?? null,
        dropped: st?.dropped ?? null,
        summaries_acked_while_flapping: atEnd.watermark,
        summaries_total: st?.streams.summary.highest_seq ?? null,
        readings_published: (t + 1) * SENSORS,
        agent_readings: st?.readings_total ?? null,
        drain_after_flapping_s: Math.round(drainS * 10) / 10,
      },
      targets: { lost: 0, duplicated: 0 },
      pass,
    }),
  );
  process.exitCode = pass ? 0 : 1;
} finally {
  clearTimeout(deadline);
  if (agent) {
    agent.child.kill('SIGTERM');
    if (agent.child.exitCode === null) await new Promise((r) => agent.child.once('exit', r));
  }
  await proxy?.close();
  await hub?.stop();
  rmSync(dir, { recursive: true, force: true });
}
