#!/usr/bin/env node
/**
 * Fault 6, a probe flood during a large backlog: the agent (built `cityflow-agent run`, child process,
 * no hub so nothing drains) starts on a file holding a 50 MB outbox backlog; sensors publish 1,000
 * readings/s (QoS 1, paced, latency from when each was due); then the same again while 200 probes/s
 * hit /health and /status (100/s each, bench/lib/paced-load.js in its own process). Target: sensor
 * PUBACK p99 <= 50 ms with the probes. The peer figure is the same load without probes, same run.
 * Also printed: what one probe cost before (the full-outbox sum it ran), timed on the same file.
 * Prints one JSON line. Needs `npx tsc -b`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { OutboxStore } from '../edge-agent/dist/storage/outbox-store.js';
import { openDb } from '../edge-agent/dist/storage/sqlite.js';
import { spawnAgent } from './lib/agent-fixture.js';

const BACKLOG_BYTES = Number(process.env.BENCH_BACKLOG_MB ?? 50) * 1024 * 1024;
const RATE = 1000; // readings/s
const PROBES = 200; // per second, half /health, half /status
const PHASE_S = Number(process.env.BENCH_PHASE_S ?? 15);
const SENSORS = 20;
const PACED = fileURLToPath(new URL('./lib/paced-load.js', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const deadline = setTimeout(() => {
  console.error('agent-probe-flood: time bound reached');
  process.exit(2);
}, 10 * 60_000);

/** A backlog of never-acked minute summaries, written straight into the agent's file. */
function seedBacklog(dataDir) {
  const db = openDb(dataDir);
  const outbox = new OutboxStore(db);
  const pad = 'x'.repeat(180);
  let bytes = 0;
  let n = 0;
  db.transaction(() => {
    while (bytes < BACKLOG_BYTES) {
      const body = {
        sensor_id: `PS-${n % SENSORS}`,
        road_id: 'PR-0',
        minute: new Date(Date.UTC(2026, 0, 1) + Math.floor(n / SENSORS) * 60_000).toISOString(),
        count: 60,
        null_speed_count: 0,
        speed_mean: 40,
        speed_min: 30,
        speed_max: 50,
        flow_mean: 600,
        occupancy_mean: 0.1,
        note: pad,
      };
      bytes += JSON.stringify(body).length;
      outbox.append('summary', body, Date.now());
      n++;
    }
  })();
  // what each probe paid before fault 6 was fixed: a sum over the whole outbox
  const t0 = performance.now();
  db.prepare(
    "SELECT count(*) AS n, coalesce(sum(length(body)), 0) AS bytes, min(created_ms) AS oldest FROM outbox WHERE stream = 'summary'",
  ).get();
  const fullSumMs = performance.now() - t0;
  db.close();
  return { rows: n, bytes, fullSumMs };
}

function pacedProbes(url, seconds) {
  const child = spawn(
    process.execPath,
    [PACED, JSON.stringify({ url, rate: PROBES / 2, duration_s: seconds, connections: 10 })],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new Error(`paced-load exited ${code} without a result`));
      }
    }),
  );
}

/** Publishes RATE readings/s for `seconds`; PUBACK latency measured from each reading's due time. */
async function sensorLoad(client, seconds, t0Data) {
  const lat = [];
  const total = RATE * seconds;
  const start = performance.now();
  const pending = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const s = i % SENSORS;
    const payload = `{"ts":"${new Date(t0Data + i).toISOString()}","sensor_id":"PS-${s}","road_id":"PR-0","speed_kmh":40,"flow_rate":600,"occupancy":0.1}`;
    pending.push(
      client
        .publishAsync(`cityflow/traffic/PS-${s}`, payload, { qos: 1 })
        .then(() => lat.push(performance.now() - due)),
    );
  }
  await Promise.all(pending);
  lat.sort((a, b) => a - b);
  const q = (p) => Math.round(lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] * 10) / 10;
  return { readings: lat.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: q(1) };
}

const dir = mkdtempSync(join(tmpdir(), 'cf-bench-probe-'));
let agent;
try {
  const dataDir = join(dir, 'agent');
  const seeded = seedBacklog(dataDir);
  writeFileSync(join(dir, 'agent.json'), JSON.stringify({ logLevel: 'error', liveIntervalS: 3600 }));
  agent = await spawnAgent([
    ...['--config', join(dir, 'agent.json'), '--agent-id', 'BENCH-P', '--data-dir', dataDir],
    ...['--mqtt-port', '0', '--http-port', '0'],
  ]);
  const http = agent.ready.http_url;
  const status = await (await fetch(`${http}/status`)).json();
  const client = await mqtt.connectAsync(agent.ready.mqtt_url, { reconnectPeriod: 0 });
  const now = Date.now() - 3_600_000;
  await sensorLoad(client, 2, now - 60_000); // warm-up
  const quiet = await sensorLoad(client, PHASE_S, now);
  const probes = Promise.all([
    pacedProbes(`${http}/health`, PHASE_S),
    pacedProbes(`${http}/status`, PHASE_S),
  ]);
  const flooded = await sensorLoad(client, PHASE_S, now + PHASE_S * 1000 + 1000);
  const [health, st] = await probes;
  await client.endAsync();
  const pass = flooded.p99_ms <= 50 && health.errors + st.errors === 0;
  console.log(
    JSON.stringify({
      name: 'agent-probe-flood',
      description: `${Math.round(seeded.bytes / 1048576)} MB outbox backlog; ${RATE} readings/s QoS 1 for ${PHASE_S} s without, then with ${PROBES} probes/s (/health + /status)`,
      metrics: {
        backlog_rows: seeded.rows,
        backlog_bytes: seeded.bytes,
        status_outbox_bytes: status.outbox_bytes,
        puback_p99_ms_no_probes: quiet.p99_ms,
        puback_p99_ms_with_probes: flooded.p99_ms,
        puback_p50_ms_with_probes: flooded.p50_ms,
        puback_max_ms_with_probes: flooded.max_ms,
        health_p99_ms: health.p99_ms,
        status_p99_ms: st.p99_ms,
        probes_per_s: Math.round((health.req_per_s + st.req_per_s) * 10) / 10,
        probe_errors: health.errors + st.errors,
        old_probe_full_sum_ms: Math.round(seeded.fullSumMs * 10) / 10,
      },
      targets: { puback_p99_ms_with_probes: '<= 50' },
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
  rmSync(dir, { recursive: true, force: true });
}
