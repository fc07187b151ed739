#!/usr/bin/env node
/**
 * Burst absorb (issue 4): N agents reconnect at once, each with a backlog of M minutes of per-minute
 * summaries for S sensors, sent in batches over MQTT to a hub storing into PostgreSQL. Measures the time
 * until every agent holds an ack for its last seq, then checks no loss and no duplicate in the database.
 * Goal: 1,000 × 60 × 32 = 1.92 M summaries in ≤ 60 s. Bounded: gives up after BENCH_TIMEOUT_S.
 *   BENCH_AGENTS=1000 BENCH_MINUTES=60 BENCH_SENSORS=32 BENCH_BATCH=480 BENCH_INFLIGHT=2
 *   BENCH_PG_URL (default $CITYFLOW_TEST_PG_URL or postgres://postgres@127.0.0.1:5432/test)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '@cityflow/hub';
import { topics } from '@cityflow/protocol';
import mqtt from 'mqtt';
import pg from 'pg';

const env = (k, d) => Number(process.env[k] ?? d);
const AGENTS = env('BENCH_AGENTS', 1000);
const MINUTES = env('BENCH_MINUTES', 60);
const SENSORS = env('BENCH_SENSORS', 32);
const BATCH = env('BENCH_BATCH', 480);
const INFLIGHT = env('BENCH_INFLIGHT', 2);
const TIMEOUT_S = env('BENCH_TIMEOUT_S', 300);
const PG_URL =
  process.env.BENCH_PG_URL ?? process.env.CITYFLOW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROADS_PER_AGENT = 8;
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

// A network with every agent's roads and sensors (the hub rejects data on unknown roads).
function network() {
  const features = [];
  for (let a = 0; a < AGENTS; a++) {
    const agent = `AG${a}`;
    const lon = 2.2 + (a % 40) * 0.005;
    const lat = 48.8 + Math.floor(a / 40) * 0.005;
    for (let r = 0; r < ROADS_PER_AGENT; r++)
      features.push({
        type: 'Feature',
        geometry: {
          type: 'LineString',
          coordinates: [
            [lon, lat],
            [lon + 0.001, lat + 0.001 * r],
          ],
        },
        properties: {
          kind: 'road',
          road_id: `${agent}-R${r}`,
          from_node: `${agent}-N${r}`,
          to_node: `${agent}-N${(r + 1) % ROADS_PER_AGENT}`,
          length_m: 150,
          lanes: 2,
          speed_limit_kmh: 50,
        },
      });
    for (let s = 0; s < SENSORS; s++)
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [lon, lat] },
        properties: {
          kind: 'sensor',
          sensor_id: `${agent}-S${s}`,
          road_id: `${agent}-R${s % ROADS_PER_AGENT}`,
          agent_id: agent,
        },
      });
  }
  const file = join(mkdtempSync(join(tmpdir(), 'bench-hub-')), 'network.geojson');
  writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features }));
  return file;
}

const T0 = Date.UTC(2026, 2, 2, 6, 0);
function* batches(agent) {
  let seq = 0;
  let items = [];
  for (let m = 0; m < MINUTES; m++)
    for (let s = 0; s < SENSORS; s++) {
      seq++;
      items.push({
        seq,
        sensor_id: `${agent}-S${s}`,
        road_id: `${agent}-R${s % ROADS_PER_AGENT}`,
        minute: new Date(T0 + m * 60_000).toISOString(),
        count: 12,
        null_speed_count: 1,
        speed_mean: 30 + (s % 7),
        speed_min: 20,
        speed_max: 45,
        flow_mean: 700,
        occupancy_mean: 0.12,
      });
      if (items.length === BATCH) {
        yield {
          last: seq,
          payload: JSON.stringify({
            v: 1,
            agent_id: agent,
            stream: 'summary',
            sent_at: new Date().toISOString(),
            items,
          }),
        };
        items = [];
      }
    }
  if (items.length)
    yield {
      last: seq,
      payload: JSON.stringify({
        v: 1,
        agent_id: agent,
        stream: 'summary',
        sent_at: new Date().toISOString(),
        items,
      }),
    };
}

async function main() {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const u = new URL(PG_URL);
  u.searchParams.set('options', `-c search_path=${schema}`);
  process.env.CITYFLOW_PG_POOL ??= '16';
  const hub = await startHub({
    databaseUrl: u.toString(),
    mqttPort: 0,
    port: 0,
    host: '127.0.0.1',
    networkFile: network(),
    logLevel: 'error',
    cycleIntervalS: 3600,
    jwtSecret: 'bench-secret-0123456789',
  });
  const total = AGENTS * MINUTES * SENSORS;
  try {
    const creds = [];
    for (let a = 0; a < AGENTS; a++) creds.push(await hub.addAgent(`AG${a}`));
    log(
      `hub up; ${AGENTS} agents x ${MINUTES} min x ${SENSORS} sensors = ${total} summaries, batches of ${BATCH}`,
    );
    const t0 = performance.now();
    const deadline = Date.now() + TIMEOUT_S * 1000;
    let ackedItems = 0;
    const runAgent = async (c) => {
      const client = await mqtt.connectAsync(hub.mqttUrl, {
        clientId: `agent:${c.agent_id}`,
        username: c.username,
        password: c.password,
        reconnectPeriod: 0,
        connectTimeout: 60_000,
      });
      const gen = batches(c.agent_id);
      let watermark = 0;
      const waiters = [];
      client.on('message', (_t, p) => {
        const ack = JSON.parse(p.toString());
        if (ack.watermark > watermark) {
          ackedItems += ack.watermark - watermark;
          watermark = ack.watermark;
        }
        for (const w of waiters.splice(0)) w();
      });
      await client.subscribeAsync(topics.ack(c.agent_id, 'summary'), { qos: 1 });
      const inflight = [];
      let lastSeq = 0;
      for (const b of gen) {
        lastSeq = b.last;
        while (inflight.length >= INFLIGHT) {
          const oldest = inflight[0];
          while (watermark < oldest) {
            if (Date.now() > deadline) throw new Error('timeout');
            await new Promise((r) => {
              waiters.push(r);
              setTimeout(r, 5000);
            });
          }
          inflight.shift();
        }
        client.publish(topics.uplink(c.agent_id, 'summary'), b.payload, { qos: 1 });
        inflight.push(b.last);
      }
      while (watermark < lastSeq) {
        if (Date.now() > deadline) throw new Error('timeout');
        await new Promise((r) => {
          waiters.push(r);
          setTimeout(r, 5000);
        });
      }
      await client.endAsync();
    };
    const progress = setInterval(
      () => log(`  ${((performance.now() - t0) / 1000).toFixed(0)} s: ${ackedItems} acked`),
      10_000,
    );
    const results = await Promise.allSettled(creds.map(runAgent));
    clearInterval(progress);
    const seconds = (performance.now() - t0) / 1000;
    const failed = results.filter((r) => r.status === 'rejected').length;
    const counts = await admin.query(
      `SELECT count(*)::int AS n, count(DISTINCT (sensor_id, minute))::int AS d FROM ${schema}.traffic_minute`,
    );
    const wm = await admin.query(
      `SELECT count(*)::int AS complete FROM ${schema}.ingest_watermarks WHERE watermark = $1`,
      [MINUTES * SENSORS],
    );
    const { n, d } = counts.rows[0];
    const out = {
      name: 'hub-burst',
      metrics: {
        agents: AGENTS,
        summaries: total,
        seconds: Number(seconds.toFixed(2)),
        summaries_per_s: Math.round(n / seconds),
        stored_rows: n,
        duplicates: n - d,
        lost: total - n,
        agents_fully_acked: wm.rows[0].complete,
        agents_failed: failed,
        goal_seconds: 60,
      },
      peer: { name: 'goal: 1.92 M summaries in 60 s', summaries_per_s: Math.round(1_920_000 / 60) },
      ratio: Number((n / seconds / (1_920_000 / 60)).toFixed(3)),
    };
    console.log(JSON.stringify(out));
  } finally {
    await hub.stop();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
