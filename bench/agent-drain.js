#!/usr/bin/env node
/**
 * Backlog drain: 24 h of per-minute summaries for 64 sensors (92,160 summaries) queued on an agent
 * while the hub was away, then drained into a real hub (`@cityflow/hub` startHub, PostgreSQL when
 * CITYFLOW_TEST_PG_URL / BENCH_PG_URL is set, else PGlite in memory) through its embedded broker,
 * with the contiguous ack watermark. Target >= 20k summaries/s; peer figure: ThingsBoard Edge's
 * default uplink of ~50 messages/s (a documented constant, not run here).
 * Prints one JSON object on stdout. Needs `npx tsc -b`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '@cityflow/hub';
import mqtt from 'mqtt';
import pg from 'pg';
import { lineNetwork, spawnAgent } from './lib/agent-fixture.js';

const SENSORS = 64;
const MINUTES = Number(process.env.BENCH_MINUTES ?? 1440);
const EXPECTED = SENSORS * MINUTES;
const AGENT = 'BENCH-D';
const T0 = Date.UTC(2026, 1, 9, 0, 0, 0);
const deadline = setTimeout(() => {
  console.error('agent-drain: time bound reached');
  process.exit(2);
}, 10 * 60_000);

const stop = (child) =>
  new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', r);
    child.kill('SIGTERM');
  });
const status = async (http) => (await fetch(`${http}/status`)).json();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function feed(url) {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const total = EXPECTED + 1;
  let sent = 0;
  let acked = 0;
  const msg = (i) => {
    if (i === EXPECTED)
      return [
        'BS-0',
        `{"ts":"${new Date(T0 + MINUTES * 60_000 + 30_000).toISOString()}","sensor_id":"BS-0","road_id":"BR-0","speed_kmh":40,"flow_rate":500,"occupancy":0.1}`,
      ];
    const m = Math.floor(i / SENSORS);
    const s = i % SENSORS;
    const ts = new Date(T0 + m * 60_000 + 10_000 + s * 100).toISOString();
    return [
      `BS-${s}`,
      `{"ts":"${ts}","sensor_id":"BS-${s}","road_id":"BR-${s % 16}","speed_kmh":${30 + ((m + s) % 25)},"flow_rate":${400 + (m % 300)},"occupancy":0.${(m + s) % 9}}`,
    ];
  };
  await new Promise((resolve, reject) => {
    const send = () => {
      if (sent >= total) return;
      const [s, p] = msg(sent++);
      c.publish(`cityflow/traffic/${s}`, p, { qos: 1 }, (err) => {
        if (err) return reject(err);
        if (++acked === total) resolve();
        else send();
      });
    };
    for (let k = 0; k < 200; k++) send();
  });
  await c.endAsync();
}

const dir = mkdtempSync(join(tmpdir(), 'cf-bench-drain-'));
let schemaCleanup = async () => {};
try {
  const netFile = join(dir, 'network.geojson');
  writeFileSync(
    netFile,
    JSON.stringify(lineNetwork({ prefix: 'B', roads: 16, sensors: SENSORS, agentId: AGENT })),
  );
  const dataDir = join(dir, 'agent');
  writeFileSync(
    join(dir, 'agent.json'),
    JSON.stringify({
      logLevel: 'error',
      liveIntervalS: 3600,
      forecastIntervalS: 3600,
      drainRatePerS: 1_000_000,
      // one client feeds at full speed: the per-connection publish limit is not what this measures
      mqttPublishRatePerS: 0,
      batchMaxItems: 2000,
    }),
  );
  const common = [
    '--config',
    join(dir, 'agent.json'),
    '--agent-id',
    AGENT,
    '--data-dir',
    dataDir,
    '--mqtt-port',
    '0',
    '--http-port',
    '0',
    '--clock',
    'data',
  ];

  // 1. the backlog: a day of readings while no hub is configured
  const a1 = await spawnAgent(common);
  const tFeed = performance.now();
  await feed(a1.ready.mqtt_url);
  for (let i = 0; i < 600; i++) {
    const s = await status(a1.ready.http_url);
    if (s.streams.summary.highest_seq >= EXPECTED) break;
    await sleep(100);
  }
  const feedS = (performance.now() - tFeed) / 1000;
  await stop(a1.child);

  // 2. the hub
  const pgBase = process.env.BENCH_PG_URL ?? process.env.CITYFLOW_TEST_PG_URL;
  let databaseUrl = 'pglite://memory';
  if (pgBase) {
    const schema = `agent_drain_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: pgBase });
    await c.connect();
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.end();
    const u = new URL(pgBase);
    u.searchParams.set('options', `-c search_path=${schema}`);
    databaseUrl = u.toString();
    schemaCleanup = async () => {
      const d = new pg.Client({ connectionString: pgBase });
      await d.connect();
      await d.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await d.end();
    };
  }
  const hub = await startHub({
    databaseUrl,
    mqttPort: 0,
    port: 0,
    host: '127.0.0.1',
    networkFile: netFile,
    logLevel: 'silent',
    clock: 'data',
    cycleIntervalS: 3600,
  });
  const cred = await hub.addAgent(AGENT);

  // 3. drain: from the agent's connection to the hub until the hub's watermark covers every summary.
  // A never-acked agent first waits up to 2 s for a retained ack (the wiped-agent rule): included.
  const a2 = await spawnAgent([
    ...common,
    '--hub-url',
    hub.mqttUrl,
    '--hub-username',
    cred.username,
    '--hub-password',
    cred.password,
  ]);
  for (let i = 0; i < 2000 && !(await status(a2.ready.http_url)).hub_connected; i++) await sleep(5);
  const t0 = performance.now();
  let last;
  let firstAckS = null;
  for (let i = 0; i < 3000; i++) {
    last = await status(a2.ready.http_url);
    if (firstAckS === null && last.streams.summary.watermark > 0) firstAckS = (performance.now() - t0) / 1000;
    if (last.streams.summary.watermark >= EXPECTED) break;
    await sleep(200); // /status counts the outbox: polling it hard would slow the agent down
  }
  const drainS = (performance.now() - t0) / 1000;
  const rows = await hub.db.query(
    'SELECT count(*)::int AS n, sum(count)::int AS samples FROM traffic_minute WHERE agent_id = $1',
    [AGENT],
  );
  await stop(a2.child);
  await hub.stop();
  const perS = Math.round(EXPECTED / drainS);
  const steadyPerS = firstAckS === null ? null : Math.round(EXPECTED / (drainS - firstAckS));
  const peer = 50;
  console.log(
    JSON.stringify({
      name: 'agent-drain',
      description: `${EXPECTED} per-minute summaries (64 sensors x ${MINUTES} min) drained from one agent into the hub (${databaseUrl.startsWith('pglite') ? 'PGlite' : 'PostgreSQL'}), acked by the contiguous watermark`,
      metrics: {
        summaries: EXPECTED,
        drained: last?.streams.summary.watermark ?? 0,
        hub_rows: rows.rows[0].n,
        hub_samples: rows.rows[0].samples,
        seconds: Math.round(drainS * 100) / 100,
        summaries_per_s: perS,
        summaries_per_s_after_first_ack: steadyPerS,
        backlog_fill_s: Math.round(feedS * 10) / 10,
      },
      peer: { name: 'ThingsBoard Edge default uplink (documented, not run)', summaries_per_s: peer },
      ratio: Math.round((perS / peer) * 10) / 10,
      targets: { summaries_per_s: '>= 20000' },
      pass: perS >= 20_000 && rows.rows[0].n === EXPECTED,
    }),
  );
} finally {
  clearTimeout(deadline);
  await schemaCleanup().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
